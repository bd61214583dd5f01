import type { Kysely } from "kysely";
import { listFlags, type FlagState } from "../flags/listFlags.js";
import type { Schema } from "../storage/schema.js";
import { readBackfillState, type BackfillTypeState } from "./readBackfillState.js";
import { readReconciliationState, type ReconciliationState } from "./readReconciliationState.js";
import { readWebhookBacklog, type WaitingGroup } from "./readWebhookBacklog.js";

/** Everything the stored-state metrics describe, read at one moment. */
export interface StoredState {
  readAtMs: number;
  reconciliation: ReconciliationState;
  backfill: BackfillTypeState[];
  waiting: WaitingGroup[];
  flags: FlagState[];
}

/** Seven small reads, each through an index or of a table with one row per run or flag. */
export async function readStoredState(db: Kysely<Schema>, nowMs: number): Promise<StoredState> {
  return {
    readAtMs: nowMs,
    reconciliation: await readReconciliationState(db),
    backfill: await readBackfillState(db),
    waiting: await readWebhookBacklog(db),
    flags: await listFlags(db),
  };
}

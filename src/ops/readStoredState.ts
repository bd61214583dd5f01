import type { Kysely } from "kysely";
import { listFlags, type FlagState } from "../flags/listFlags.js";
import type { Schema } from "../storage/schema.js";
import { countFindings, type FindingCount } from "../providerSync/storeFindings.js";
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
  providerFindings: FindingCount[];
}

/**
 * Eight small reads, each through an index or of a table with one row per run or flag.
 * They go out together: on PostgreSQL each takes its own pooled connection, so a scrape
 * waits for the slowest read, not their sum; SQLite's one connection runs them in turn.
 */
export async function readStoredState(db: Kysely<Schema>, nowMs: number): Promise<StoredState> {
  const [reconciliation, backfill, waiting, flags, providerFindings] = await Promise.all([
    readReconciliationState(db),
    readBackfillState(db),
    readWebhookBacklog(db),
    listFlags(db),
    countFindings(db),
  ]);
  return { readAtMs: nowMs, reconciliation, backfill, waiting, flags, providerFindings };
}

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
 * Five small reads, each through an index or of a table with one row per run or flag,
 * over ONE connection, in turn. On PostgreSQL, spreading them over the pool looked
 * parallel but was not (two cores), and it made a fresh server, or one whose idle
 * connections had timed out, open five backends for one scrape, each loading its
 * catalogue caches: 35–210 ms for the first scrape against 5–17 ms warm
 * (docs/decisions/metrics-from-stored-state.md). SQLite's one connection ran them in
 * turn anyway.
 */
export async function readStoredState(db: Kysely<Schema>, nowMs: number): Promise<StoredState> {
  return db.connection().execute(async (connection) => {
    const reconciliation = await readReconciliationState(connection);
    const backfill = await readBackfillState(connection);
    const waiting = await readWebhookBacklog(connection);
    const flags = await listFlags(connection);
    const providerFindings = await countFindings(connection);
    return { readAtMs: nowMs, reconciliation, backfill, waiting, flags, providerFindings };
  });
}

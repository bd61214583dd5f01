import type { Selectable } from "kysely";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { ReconciliationChunksTable } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import { STALE_AFTER_MS } from "./openRun.js";

export type Chunk = Selectable<ReconciliationChunksTable>;

/** A chunk as its claimer holds it. */
export interface ClaimedChunk extends Chunk {
  /** No one held it before: no line of its range can have been written by anyone yet. */
  firstClaim: boolean;
}

/**
 * Claims the next chunk of a run for `holder`: a pending one, or one whose claimer
 * went silent. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances claim
 * different chunks at once without waiting on each other; on SQLite the single
 * writer (BEGIN IMMEDIATE) makes the read-then-update atomic.
 */
export async function claimChunk(db: Db, runId: number, holder: string, now: Date): Promise<ClaimedChunk | undefined> {
  const staleBefore = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  return withTransaction(db, async (trx) => {
    let query = trx
      .selectFrom("reconciliation_chunks")
      .select(["chunk_no", "status"])
      .where("run_id", "=", runId)
      .where((eb) =>
        eb.or([eb("status", "=", "pending"), eb.and([eb("status", "=", "claimed"), eb("claimed_at", "<", staleBefore)])]),
      )
      .orderBy("chunk_no")
      .limit(1);
    if (capabilitiesOf(trx).skipLocked) query = query.forUpdate().skipLocked();
    const next = await query.executeTakeFirst();
    if (!next) return undefined;
    const at = now.toISOString();
    const claimed = await trx
      .updateTable("reconciliation_chunks")
      .set({ status: "claimed", claimed_by: holder, claimed_at: at })
      .where("run_id", "=", runId)
      .where("chunk_no", "=", next.chunk_no)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.updateTable("reconciliation_runs").set({ heartbeat_at: at }).where("id", "=", runId).execute();
    return { ...claimed, firstClaim: next.status === "pending" };
  });
}

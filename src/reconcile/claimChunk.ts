import { sql, type Selectable } from "kysely";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { ReconciliationChunksTable } from "../storage/schema.js";
import { retryingConflicts, withTransaction } from "../storage/withTransaction.js";
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
  const at = now.toISOString();
  const { skipLocked, writableCtes } = capabilitiesOf(db.kysely);
  return skipLocked && writableCtes ? claimInOneStatement(db, runId, holder, at, staleBefore) : claimInTransaction(db, runId, holder, at, staleBefore);
}

/**
 * Where one statement can lock, update and return rows: the pick, the claim and the
 * run's heartbeat are one statement, one round trip and one commit. Under load each
 * round trip of the sweep waits for the serving process's event loop, and the claim
 * in a transaction of its own cost five of them per chunk
 * (docs/decisions/reconciliation-performance.md, "PostgreSQL, fourth round"). A deadlock
 * or serialization failure runs it again, as `withTransaction` would.
 */
function claimInOneStatement(db: Db, runId: number, holder: string, at: string, staleBefore: string): Promise<ClaimedChunk | undefined> {
  return retryingConflicts(async () => {
    const claimed = await sql<Chunk & { previous_status: string }>`
      WITH next AS (
        SELECT chunk_no, status FROM reconciliation_chunks
        WHERE run_id = ${runId} AND (status = 'pending' OR (status = 'claimed' AND claimed_at < ${staleBefore}))
        ORDER BY chunk_no LIMIT 1
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE reconciliation_chunks c SET status = 'claimed', claimed_by = ${holder}, claimed_at = ${at}
        FROM next WHERE c.run_id = ${runId} AND c.chunk_no = next.chunk_no
        RETURNING c.*, next.status AS previous_status
      ), beat AS (
        UPDATE reconciliation_runs SET heartbeat_at = ${at} WHERE id = ${runId} AND EXISTS (SELECT 1 FROM claimed)
      )
      SELECT * FROM claimed`.execute(db.kysely);
    const row = claimed.rows[0];
    if (!row) return undefined;
    const { previous_status: previous, ...chunk } = row;
    return { ...chunk, firstClaim: previous === "pending" };
  });
}

async function claimInTransaction(db: Db, runId: number, holder: string, at: string, staleBefore: string): Promise<ClaimedChunk | undefined> {
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

import { sql } from "kysely";
import type { Db } from "../storage/openDatabase.js";
import type { SliceSwept, SliceToSweep } from "../storage/SeparateWriter.js";
import { withTransaction } from "../storage/withTransaction.js";
import { chunkStillOurs } from "./chunkStillOurs.js";
import { isIntegerOverflow } from "./isIntegerOverflow.js";
import { rangeOn, settledOn } from "./readSweptUsers.js";
import { okLineHasher } from "./reportHashes.js";

class ChunkLost extends Error {}

/**
 * Observes one slice of a chunk and writes its `ok` lines in one statement, inside one
 * write transaction that first checks the chunk is still `slice.holder`'s: one
 * consistent read, and a claimer that lost its chunk writes nothing. The engine calls
 * back for each user (`EngineAdapter.sweptUsers`), where its `ok` line is hashed by
 * `okLineHasher`, the TypeScript `lineHash` of such a line. The writer thread runs this
 * on its own connection (`WriteTurns.sweepSlice`), or the sweep's own connection does.
 *
 * A user is settled only when wallet and entries agree inside the exact range
 * (`settledOn`); SQLite refuses a sum past 64 bits ("integer overflow"), and then every
 * user of the slice goes to the heal's per-user reading and no line is written here.
 * A line already stored for a user (an earlier claimer's) is kept.
 */
export async function sweepSlice(db: Db, slice: SliceToSweep): Promise<SliceSwept> {
  const swept = db.engine.sweptUsers;
  if (!swept) throw new Error("sweepSlice runs where the engine calls back into this process");
  const range = { after: slice.after, last: slice.last };
  const hashOf = okLineHasher(slice.date);
  try {
    const rows = await withTransaction(db, async (trx) => {
      if (!(await chunkStillOurs(trx, slice))) throw new ChunkLost();
      const total = sql`COALESCE(SUM(e.amount), 0)`;
      const settled = settledOn(sql.ref("w.points"), total);
      // `placed` numbers the slice in user-id order; a window function keeps SQLite from
      // flattening it into the insert, so the callback runs once per user.
      const call = swept.userCall(sql.ref("position"), sql.ref("uid"), sql.ref("settled"), sql.ref("points"), sql.ref("n"));
      const statement = sql`
        WITH seen AS (
          SELECT w.uid AS uid, ${settled} AS settled, CASE WHEN ${settled} THEN w.points END AS points, COUNT(e.uid) AS n
          FROM wallets w
          LEFT JOIN ledger_entries e ON e.uid = w.uid
          WHERE ${rangeOn(sql.ref("w.uid"), range)}
          GROUP BY w.uid
          ORDER BY w.uid
          LIMIT ${slice.limit}
        ), placed AS (
          SELECT uid, points, n, ${call} AS line_hash
          FROM (SELECT uid, settled, points, n, row_number() OVER (ORDER BY uid) - 1 AS position FROM seen)
        )
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
        SELECT ${slice.runId}, uid, points, points, n, 0, 'ok', NULL, line_hash FROM placed WHERE line_hash IS NOT NULL
        ON CONFLICT DO NOTHING`.compile(trx);
      try {
        return await swept.run(trx, statement, hashOf);
      } catch (error) {
        if (!isIntegerOverflow(error)) throw error;
        // The statement's own changes are undone; the transaction goes on without them.
        const page = await sql<{ uid: string }>`
          SELECT uid FROM wallets WHERE ${rangeOn(sql.ref("uid"), range)} ORDER BY uid LIMIT ${slice.limit}`.execute(trx);
        const drifted = page.rows.map((row) => row.uid);
        return { checked: drifted.length, lastUid: drifted.at(-1) ?? null, hashes: [], drifted, driftedAt: drifted.map(() => 0), inserted: 0 };
      }
    });
    return { outcome: "swept", rows };
  } catch (error) {
    if (error instanceof ChunkLost) return { outcome: "chunk_lost" };
    throw error;
  }
}

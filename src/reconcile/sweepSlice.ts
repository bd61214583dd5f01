import { sql, type Kysely } from "kysely";
import type { SweptUsersInProcess } from "../storage/EngineAdapter.js";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import type { SliceSwept, SliceToSweep, SweptSliceRows } from "../storage/SeparateWriter.js";
import { withTransaction } from "../storage/withTransaction.js";
import { chunkStillOurs } from "./chunkStillOurs.js";
import { isIntegerOverflow } from "./isIntegerOverflow.js";
import { rangeOn, settledOn, type UidRange } from "./uidRange.js";
import { okLineHasher } from "./reportHashes.js";

class ChunkLost extends Error {}

/**
 * Observes one slice of a chunk and writes its `ok` lines in one statement, inside one
 * write transaction that first checks the chunk is still `slice.holder`'s: one
 * consistent read, and a claimer that lost its chunk writes nothing. The engine calls
 * back for each settled user's hash (`EngineAdapter.sweptUsers`, with `okLineHasher`,
 * the TypeScript `lineHash` of such a line) and for each user not settled. The writer
 * thread runs this on its own connection (`WriteTurns.sweepSlice`), or the sweep's own
 * connection does.
 *
 * A user is settled only when wallet and entries agree inside the exact range
 * (`settledOn`); SQLite refuses a sum past 64 bits ("integer overflow"), and then every
 * user of the slice goes to the heal's per-user reading and no line is written here.
 * A line already stored for a user (an earlier claimer's) is kept.
 */
export async function sweepSlice(db: Db, slice: SliceToSweep): Promise<SliceSwept> {
  const swept = db.engine.sweptUsers;
  if (!swept) throw new Error("sweepSlice runs where the engine calls back into this process");
  try {
    const rows = await withTransaction(db, async (trx) => {
      if (!(await chunkStillOurs(trx, slice))) throw new ChunkLost();
      const bounds = await sliceBounds(trx, { after: slice.after, last: slice.last }, slice.limit);
      if (bounds.lastUid === null) return { checked: 0, lastUid: null, hashes: [], drifted: [], driftedAt: [], inserted: 0 };
      const range = { after: slice.after, last: bounds.lastUid };
      try {
        return { ...bounds, ...(await observeAndWrite(trx, swept, slice, range)) };
      } catch (error) {
        if (!isIntegerOverflow(error)) throw error;
        // The statement's own changes are undone; the transaction goes on without them.
        const page = await sql<{ uid: string }>`SELECT uid FROM wallets WHERE ${rangeOn(sql.ref("uid"), range)} ORDER BY uid`.execute(trx);
        const drifted = page.rows.map((row) => row.uid);
        return { ...bounds, hashes: [], drifted, driftedAt: drifted.map(() => 0), inserted: 0 };
      }
    });
    return { outcome: "swept", rows };
  } catch (error) {
    if (error instanceof ChunkLost) return { outcome: "chunk_lost" };
    throw error;
  }
}

/**
 * The slice's users and last id, found along the wallets' key before the slice is read:
 * the statement then reads a closed range, with no `LIMIT` that would keep SQLite
 * numbering rows, and its users' order need not be carried through it.
 */
async function sliceBounds(trx: Kysely<Schema>, range: UidRange, limit: number): Promise<{ checked: number; lastUid: string | null }> {
  const where = rangeOn(sql.ref("uid"), range);
  const full = await sql<{ uid: string }>`SELECT uid FROM wallets WHERE ${where} ORDER BY uid LIMIT 1 OFFSET ${limit - 1}`.execute(trx);
  if (full.rows.length > 0) return { checked: limit, lastUid: full.rows[0]!.uid };
  const rest = await sql<{ n: number; last_uid: string | null }>`SELECT COUNT(*) AS n, MAX(uid) AS last_uid FROM wallets WHERE ${where}`.execute(trx);
  return { checked: Number(rest.rows[0]!.n), lastUid: rest.rows[0]!.last_uid };
}

/** The statement, then the order of what it saw: the stored lines' hashes and each unsettled user's place, read in SQL. */
async function observeAndWrite(trx: Kysely<Schema>, swept: SweptUsersInProcess, slice: SliceToSweep, range: UidRange): Promise<Omit<SweptSliceRows, "checked" | "lastUid">> {
  const total = sql`COALESCE(SUM(e.amount), 0)`;
  const settled = settledOn(sql.ref("w.points"), total);
  const statement = sql`
    WITH seen AS (
      SELECT w.uid AS uid, ${settled} AS settled, w.points AS points, COUNT(e.uid) AS n
      FROM wallets w
      LEFT JOIN ledger_entries e ON e.uid = w.uid
      WHERE ${rangeOn(sql.ref("w.uid"), range)}
      GROUP BY w.uid
    )
    INSERT INTO reconciliation_user_reports
      (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
    SELECT ${slice.runId}, uid, points, points, n, 0, 'ok', NULL, ${swept.okLineHash(sql.ref("uid"), sql.ref("points"), sql.ref("n"))}
    FROM seen WHERE CASE WHEN settled THEN 1 ELSE ${swept.notSettled(sql.ref("uid"))} END
    ON CONFLICT DO NOTHING`.compile(trx);
  const { inserted, notSettled } = await swept.run(trx, statement, okLineHasher(slice.date));
  // Joined by commas (hashes are hex; one an earlier claimer stored is whatever its column holds).
  const stored = await sql<{ hashes: string | null }>`
    SELECT group_concat(line_hash, ',' ORDER BY uid) AS hashes FROM reconciliation_user_reports
    WHERE run_id = ${slice.runId} AND ${rangeOn(sql.ref("uid"), range)}`.execute(trx);
  const joined = stored.rows[0]?.hashes ?? null;
  const hashes = joined === null ? [] : joined.split(",");
  if (notSettled.length === 0) return { hashes, drifted: [], driftedAt: [], inserted };
  // Each unsettled user's place among the slice's users, numbered in SQL in one statement
  // whatever their number (a slice where every user drifted costs one read, not one per
  // user): the database's order, with no comparison of ids in JavaScript.
  const placed = await sql<{ uid: string; before: number }>`
    SELECT uid, before FROM (
      SELECT uid, row_number() OVER (ORDER BY uid) - 1 AS before FROM wallets WHERE ${rangeOn(sql.ref("uid"), range)}
    ) WHERE uid IN (SELECT value FROM json_each(${JSON.stringify(notSettled)}))
    ORDER BY before`.execute(trx);
  const drifted = placed.rows.map((user) => user.uid);
  const driftedAt = placed.rows.map((user, index) => Number(user.before) - index);
  if (drifted.length !== notSettled.length) throw new Error(`${notSettled.length} users not settled, ${drifted.length} placed`);
  return { hashes, drifted, driftedAt, inserted };
}

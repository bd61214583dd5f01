import { sql, type Kysely, type RawBuilder } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
import type { Schema } from "../storage/schema.js";
import { EXACT_POINTS_MAX_SQL } from "./exactFigures.js";
import { isIntegerOverflow } from "./isIntegerOverflow.js";

export interface UidRange {
  /** Exclusive; null means from the first user. */
  after: string | null;
  /** Inclusive; null means to the last user. */
  last: string | null;
}

/** The SQL condition that keeps `column` inside `range`. */
export function rangeOn(column: RawBuilder<unknown>, range: UidRange): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (range.after !== null) parts.push(sql`${column} > ${range.after}`);
  if (range.last !== null) parts.push(sql`${column} <= ${range.last}`);
  return parts.length === 0 ? sql`1 = 1` : sql.join(parts, sql` AND `);
}

/** `points` equals `total` and both are exact as JS numbers: the only case a sweep settles without a second look. */
export function settledOn(points: RawBuilder<unknown>, total: RawBuilder<unknown>): RawBuilder<unknown> {
  const max = sql.raw(EXACT_POINTS_MAX_SQL);
  return sql`(${points} = ${total} AND ${points} BETWEEN -${max} AND ${max})`;
}

/**
 * A user as the sweep saw them: in balance within the exact range (their `ok` line
 * can be written from here), or anything else, left to the heal's exact reading.
 */
export type SweptUser = { uid: string; settled: true; points: number; count: number } | { uid: string; settled: false };

/**
 * The first `limit` wallets of a user-id range, in user-id order, each compared with
 * the sum of its entries in SQL, where integers are exact. One statement reads one
 * consistent state on both engines, and a wallet moves only in the transaction that
 * writes its entry, so a drift seen here is a real one, never a purchase caught
 * half-way. Only a settled user's balance crosses into JS, so no figure past 2^53 is
 * ever read as a number. SQLite refuses a sum past 64 bits ("integer overflow"); then
 * every user of the page goes to the heal's per-user reading, which names that user.
 */
export async function readSweptUsers(db: Kysely<Schema>, range: UidRange, limit: number): Promise<SweptUser[]> {
  const total = sql`COALESCE(SUM(e.amount), 0)`;
  const settled = settledOn(sql.ref("w.points"), total);
  try {
    // Rows as arrays (`selectArrays`): a slice is a thousand rows, read a thousand times a run.
    const rows = await engineOf(db).selectArrays(
      db,
      sql`
      SELECT w.uid AS uid, ${settled} AS settled, CASE WHEN ${settled} THEN w.points END AS points, COUNT(e.uid) AS n
      FROM wallets w
      LEFT JOIN ledger_entries e ON e.uid = w.uid
      WHERE ${rangeOn(sql.ref("w.uid"), range)}
      GROUP BY w.uid
      ORDER BY w.uid
      LIMIT ${limit}`.compile(db),
    );
    return rows.map(([uid, settledHere, points, count]) =>
      settledHere ? { uid: uid as string, settled: true, points: Number(points), count: Number(count) } : { uid: uid as string, settled: false },
    );
  } catch (error) {
    if (!isIntegerOverflow(error)) throw error;
    const page = await sql<{ uid: string }>`
      SELECT uid FROM wallets WHERE ${rangeOn(sql.ref("uid"), range)} ORDER BY uid LIMIT ${limit}`.execute(db);
    return page.rows.map((row) => ({ uid: row.uid, settled: false }));
  }
}

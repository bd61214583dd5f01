import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Schema } from "../storage/schema.js";
import type { Observation } from "./planHeal.js";

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

interface Row {
  uid: string;
  points: number;
  version: number;
  total: number | string;
  n: number | string;
}

/**
 * The first `limit` wallets of a user-id range, in user-id order, each next to the sum
 * and count of its entries, in one set-based statement. One statement reads one
 * consistent state on both engines, and a wallet moves only in the transaction that
 * writes its entry, so a drift seen here is a real one, never a purchase caught
 * half-way. The wallets' primary key drives the read, so a page costs its own size.
 */
export async function readObservations(db: Kysely<Schema>, range: UidRange, limit: number): Promise<Observation[]> {
  const result = await sql<Row>`
    SELECT w.uid AS uid, w.points AS points, w.version AS version,
           COALESCE(SUM(e.amount), 0) AS total, COUNT(e.uid) AS n
    FROM wallets w
    LEFT JOIN ledger_entries e ON e.uid = w.uid
    WHERE ${rangeOn(sql.ref("w.uid"), range)}
    GROUP BY w.uid
    ORDER BY w.uid
    LIMIT ${limit}`.execute(db);
  return result.rows.map((row) => ({
    uid: row.uid,
    walletPoints: Number(row.points),
    walletVersion: Number(row.version),
    ledgerSum: Number(row.total),
    ledgerCount: Number(row.n),
  }));
}

/**
 * One user, for the heal's own transaction. With `lock` the wallet row is read
 * `FOR UPDATE`, so the lock and the read are one statement.
 */
export async function readObservation(db: Kysely<Schema>, uid: string, options: { lock?: boolean } = {}): Promise<Observation | undefined> {
  let walletQuery = db.selectFrom("wallets").select(["points", "version"]).where("uid", "=", uid);
  if (options.lock) walletQuery = walletQuery.forUpdate();
  const wallet = await walletQuery.executeTakeFirst();
  if (!wallet) return undefined;
  const sums = await db
    .selectFrom("ledger_entries")
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>("amount"), eb.lit(0)).as("total"), eb.fn.countAll<number>().as("n")])
    .where("uid", "=", uid)
    .executeTakeFirstOrThrow();
  return {
    uid,
    walletPoints: wallet.points,
    walletVersion: wallet.version,
    ledgerSum: Number(sums.total),
    ledgerCount: Number(sums.n),
  };
}

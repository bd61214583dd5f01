import { sql, type Kysely } from "kysely";
import { lockWallets } from "../ledger/lockWallets.js";
import type { Schema } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { readExactFigures, type ExactReading } from "./exactFigures.js";
import { isIntegerOverflow } from "./isIntegerOverflow.js";

/** A drifted user as the heal sees them under the wallet lock, with this date's heal claim if any. */
export interface HealCandidate {
  uid: string;
  /** Null when the wallet no longer exists. */
  reading: ExactReading | null;
  /** The heal already claimed for this date and user (`reconciliation_heals`), if any. */
  earlier: { entryId: number | null } | null;
}

/**
 * Reads the drifted users of a chunk for their heal, in three statements whatever their
 * number: the wallets, locked in user-id order (`lockWallets`); the sums
 * and counts of their entries; their heal claims for the date. Figures come back as
 * decimal text. Every entry writer locks the wallet first, so nothing these reads see
 * can change before the heal transaction commits.
 */
export async function readHealCandidates(trx: Trx, date: string, uids: readonly string[]): Promise<HealCandidate[]> {
  const candidates: HealCandidate[] = [];
  // Groups keep each statement's parameters far below SQLite's limit whatever RECONCILE_CHUNK_USERS is;
  // they follow user-id order, so the wallet locks are still taken in that order.
  for (let start = 0; start < uids.length; start += UIDS_PER_READ) {
    candidates.push(...(await readGroup(trx, date, uids.slice(start, start + UIDS_PER_READ))));
  }
  return candidates;
}

const UIDS_PER_READ = 1_000;

async function readGroup(trx: Trx, date: string, uids: readonly string[]): Promise<HealCandidate[]> {
  const locked = await lockWallets(trx, uids)
    .select((eb) => ["uid", eb.cast<string>("points", "text").as("points"), "version"])
    .execute();
  const wallets = new Map(locked.map((row) => [row.uid, row]));
  const claims = await trx.selectFrom("reconciliation_heals").select(["uid", "entry_id"]).where("run_date", "=", date).where("uid", "in", uids).execute();
  const earlier = new Map(claims.map((claim) => [claim.uid, { entryId: claim.entry_id === null ? null : Number(claim.entry_id) }]));
  const sums = await sumEntries(trx, uids);
  return uids.map((uid) => {
    const wallet = wallets.get(uid);
    if (!wallet) return { uid, reading: null, earlier: earlier.get(uid) ?? null };
    const sum = sums.get(uid) ?? { total: "0", n: 0 };
    const reading = readExactFigures({ uid, walletPoints: wallet.points, ledgerSum: sum.total, walletVersion: Number(wallet.version), ledgerCount: sum.n });
    return { uid, reading, earlier: earlier.get(uid) ?? null };
  });
}

/** Exact sums (decimal text) and counts of entries per user; users without entries are absent. */
async function sumEntries(db: Kysely<Schema>, uids: readonly string[]): Promise<Map<string, { total: string | null; n: number }>> {
  try {
    const rows = await sql<{ uid: string; total: string; n: number | string }>`
      SELECT uid, CAST(SUM(amount) AS TEXT) AS total, COUNT(*) AS n FROM ledger_entries
      WHERE uid IN (${sql.join(uids)}) GROUP BY uid`.execute(db);
    return new Map(rows.rows.map((row) => [row.uid, { total: row.total, n: Number(row.n) }]));
  } catch (error) {
    // SQLite only (PostgreSQL sums bigints as numeric): one user's sum overflowed, so sum them one by one.
    if (!isIntegerOverflow(error)) throw error;
    const sums = new Map<string, { total: string | null; n: number }>();
    for (const uid of uids) sums.set(uid, await sumOne(db, uid));
    return sums;
  }
}

/** One user's sum as text, or null past 64 bits (SQLite); a failed read leaves its transaction usable. */
async function sumOne(db: Kysely<Schema>, uid: string): Promise<{ total: string | null; n: number }> {
  const count = await db.selectFrom("ledger_entries").select((eb) => eb.fn.countAll<number>().as("n")).where("uid", "=", uid).executeTakeFirstOrThrow();
  try {
    const read = await sql<{ total: string }>`SELECT CAST(COALESCE(SUM(amount), 0) AS TEXT) AS total FROM ledger_entries WHERE uid = ${uid}`.execute(db);
    return { total: read.rows[0]!.total, n: Number(count.n) };
  } catch (error) {
    if (!isIntegerOverflow(error)) throw error;
    return { total: null, n: Number(count.n) };
  }
}

import { createHash } from "node:crypto";
import type { Trx } from "../storage/withTransaction.js";
import type { PlannedEntry } from "./backfillRuns.js";

/** The newest entry id before a dry run starts; the plan is what comes after it. */
export async function lastEntryId(trx: Trx): Promise<number> {
  const row = await trx
    .selectFrom("ledger_entries")
    .select((eb) => eb.fn.coalesce(eb.fn.max("id"), eb.lit(0)).as("id"))
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * The entries this transaction wrote after `afterId`, in order. The transaction must
 * see one snapshot (it holds SQLite's only write lock; on PostgreSQL it runs at
 * REPEATABLE READ), so every newer row it can see is one it wrote itself.
 */
export async function entriesWrittenSince(trx: Trx, afterId: number): Promise<PlannedEntry[]> {
  const rows = await trx
    .selectFrom("ledger_entries")
    .select(["uid", "kind", "amount", "idempotency_key"])
    .where("id", ">", afterId)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({ uid: row.uid, kind: row.kind, amount: row.amount, key: row.idempotency_key }));
}

/** SHA-256 over every planned entry, one canonical line each, in posting order. */
export function planHash(entries: PlannedEntry[]): string {
  const hash = createHash("sha256");
  for (const entry of entries) hash.update(`${JSON.stringify([entry.uid, entry.kind, entry.amount, entry.key])}\n`);
  return hash.digest("hex");
}

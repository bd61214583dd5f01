import { sql, type Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/**
 * How many users break the invariant `wallet.points == sum(entry.amount)`: wallets whose
 * entries sum to something else, and users with entries but no wallet whose entries do
 * not sum to zero. The sums are compared in the database, exact on both engines.
 */
export async function countInvariantViolations(db: Kysely<Schema>): Promise<number> {
  const drifted = await sql<{ n: number | string }>`
    select count(*) as n from wallets w
    where w.points <> coalesce((select sum(e.amount) from ledger_entries e where e.uid = w.uid), 0)`.execute(db);
  const orphaned = await sql<{ n: number | string }>`
    select count(*) as n from (
      select e.uid from ledger_entries e
      where not exists (select 1 from wallets w where w.uid = e.uid)
      group by e.uid having sum(e.amount) <> 0
    ) as o`.execute(db);
  return Number(drifted.rows[0]!.n) + Number(orphaned.rows[0]!.n);
}

import { sql } from "kysely";
import { statementChunks } from "../storage/setBased.js";
import type { Trx } from "../storage/withTransaction.js";

/**
 * The exact sum of each user's entries, for the users of `uids` who have any (the others
 * sum to 0n). The sum is read as text: a JS number would round it past 2^53, and
 * PostgreSQL's `numeric` sum would not parse as one.
 */
export async function readLedgerSums(trx: Trx, uids: readonly string[]): Promise<Map<string, bigint>> {
  const sums = new Map<string, bigint>();
  for (const chunk of statementChunks([...new Set(uids)], 1)) {
    const rows = await trx
      .selectFrom("ledger_entries")
      .select(["uid", sql<string>`cast(sum(amount) as text)`.as("total")])
      .where("uid", "in", chunk)
      .groupBy("uid")
      .execute();
    for (const row of rows) sums.set(row.uid, BigInt(row.total));
  }
  return sums;
}

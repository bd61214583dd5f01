import { sql, type CompiledQuery, type QueryResult } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
import { statementChunks, valuesTable } from "../storage/setBased.js";
import type { Trx } from "../storage/withTransaction.js";

/**
 * The exact sum of each user's entries, for the users of `uids` who have any (the others
 * sum to 0n). The sum is read as text: a JS number would round it past 2^53, and
 * PostgreSQL's `numeric` sum would not parse as one.
 *
 * One sum per listed user, each through the user's index: with `uid in (…)` PostgreSQL,
 * lacking statistics on a young table (autovacuum has not analysed it yet), guessed that
 * a long list matched a third of the ledger and read all of it, once per group commit.
 */
export async function readLedgerSums(trx: Trx, uids: readonly string[]): Promise<Map<string, bigint>> {
  return ledgerSumsOf(await engineOf(trx).sendInOrder(trx, ledgerSumStatements(trx, uids)));
}

/** The statements `readLedgerSums` sends, to go with others (`sendInOrder`); `ledgerSumsOf` reads their results. */
export function ledgerSumStatements(trx: Trx, uids: readonly string[]): CompiledQuery[] {
  return statementChunks([...new Set(uids)], 1).map((chunk) => {
    const listed = valuesTable(trx, ["text"], chunk.map((uid) => [uid]));
    return sql`select v.column1 as uid, (select cast(sum(e.amount) as text) from ledger_entries e where e.uid = v.column1) as total
      from ${listed}`.compile(trx);
  });
}

export function ledgerSumsOf(results: readonly QueryResult<any>[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const { rows } of results) for (const row of rows as { uid: string; total: string | null }[]) if (row.total !== null) sums.set(row.uid, BigInt(row.total));
  return sums;
}

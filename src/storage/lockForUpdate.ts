import type { SelectQueryBuilder } from "kysely";
import { capabilitiesOf } from "./capabilities.js";
import type { Trx } from "./withTransaction.js";

/**
 * `query` with its rows locked until `trx` ends (`FOR UPDATE`) where the engine has row
 * locks. SQLite has none and needs none: its single writer already serialises the
 * transactions that would wait here.
 */
export function lockForUpdate<DB, TB extends keyof DB, O>(trx: Trx, query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> {
  return capabilitiesOf(trx).rowLocks ? query.forUpdate() : query;
}

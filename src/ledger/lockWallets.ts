import { lockForUpdate } from "../storage/lockForUpdate.js";
import type { Trx } from "../storage/withTransaction.js";

/**
 * The locked read of wallets that every writer of a user's entries or wallet starts
 * with: the existing wallets of `uids`, locked until `trx` ends and read in user-id
 * order, so that writers serialise per user and two writers locking overlapping sets
 * wait for each other instead of deadlocking. The caller chooses the columns
 * (`.selectAll()`, `.select([...])`) and keeps `uids` within one statement's parameters.
 */
export function lockWallets(trx: Trx, uids: readonly string[]) {
  return lockForUpdate(trx, trx.selectFrom("wallets").where("uid", "in", uids).orderBy("uid"));
}

import type { Trx } from "../storage/withTransaction.js";
import { MAX_BALANCE_POINTS, withinBalanceRange } from "./balanceRange.js";
import { lockWallets } from "./lockWallets.js";
import { toWallet, type Wallet } from "./types.js";

export interface RestoreWalletInput {
  uid: string;
  /** The balance the wallet must show: for a heal, the sum of the user's entries. */
  points: number;
  /** Applies only if the wallet still has this version (the state the decision was made on). */
  expectedWalletVersion: number;
  now: Date;
}

export type RestoreWalletOutcome =
  | { outcome: "restored"; before: Wallet; wallet: Wallet }
  | { outcome: "stale_wallet"; wallet: Wallet | null }
  /** The points asked for are beyond ±`limit` (`MAX_BALANCE_POINTS`); the wallet is unchanged. */
  | { outcome: "out_of_range"; limit: number };

/**
 * Sets a wallet's points without writing an entry. This is the one exception to
 * "a wallet moves only with its entry": it exists for the `restore_wallet` heal,
 * which brings a wallet that drifted away from its ledger back to the ledger's sum
 * (so afterwards the entries explain the balance again). The caller records it in
 * the reconciliation report and the audit log in the same `trx`.
 */
export async function restoreWallet(trx: Trx, input: RestoreWalletInput): Promise<RestoreWalletOutcome> {
  const row = await lockWallets(trx, [input.uid]).selectAll().executeTakeFirst();
  if (!row || row.version !== input.expectedWalletVersion) {
    return { outcome: "stale_wallet", wallet: row ? toWallet(row) : null };
  }
  if (!Number.isSafeInteger(input.points) || !withinBalanceRange(input.points)) return { outcome: "out_of_range", limit: MAX_BALANCE_POINTS };
  const now = input.now.toISOString();
  await trx
    .updateTable("wallets")
    .set({ points: input.points, version: row.version + 1, updated_at: now })
    .where("uid", "=", input.uid)
    .where("version", "=", row.version)
    .execute();
  const before = toWallet(row);
  return { outcome: "restored", before, wallet: { ...before, points: input.points, version: row.version + 1, updatedAt: now } };
}

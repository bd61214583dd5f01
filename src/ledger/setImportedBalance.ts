import { ConcurrentWriteError, type Trx } from "../storage/withTransaction.js";
import { MAX_BALANCE_POINTS, withinBalanceRange } from "./balanceRange.js";
import { restoreWallet } from "./restoreWallet.js";

export interface SetImportedBalanceInput {
  uid: string;
  /** The balance the legacy export shows. */
  points: number;
  /** The wallet's version when the import decided, or null when it had none. */
  expectedWalletVersion: number | null;
  now: Date;
}

export type SetImportedBalanceOutcome = { outcome: "set"; version: number } | { outcome: "stale_wallet" } | { outcome: "out_of_range"; limit: number };

/**
 * Gives a wallet the import has just created the balance its legacy export shows, when
 * that differs from the sum of the exported entries: the drift is carried over as it was
 * found, for the first reconciliation to report and heal by its policy. A user with no
 * exported entries has no wallet yet; one is opened holding that balance. The caller
 * audits it in the same `trx`.
 */
export async function setImportedBalance(trx: Trx, input: SetImportedBalanceInput): Promise<SetImportedBalanceOutcome> {
  if (!Number.isSafeInteger(input.points) || !withinBalanceRange(input.points)) return { outcome: "out_of_range", limit: MAX_BALANCE_POINTS };
  if (input.expectedWalletVersion !== null) {
    const restored = await restoreWallet(trx, { uid: input.uid, points: input.points, expectedWalletVersion: input.expectedWalletVersion, now: input.now });
    if (restored.outcome === "restored") return { outcome: "set", version: restored.wallet.version };
    return restored.outcome === "stale_wallet" ? { outcome: "stale_wallet" } : restored;
  }
  const at = input.now.toISOString();
  const inserted = await trx
    .insertInto("wallets")
    .values({ uid: input.uid, points: input.points, version: 1, negative_flagged: 0, created_at: at, updated_at: at })
    .onConflict((conflict) => conflict.column("uid").doNothing())
    .returning("uid")
    .execute();
  // Another writer opened the wallet after the import looked: decide again from the start.
  if (inserted.length === 0) throw new ConcurrentWriteError(`wallet ${input.uid} was created concurrently`);
  return { outcome: "set", version: 1 };
}

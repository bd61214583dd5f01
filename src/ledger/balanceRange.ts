/**
 * The largest balance, either side of zero, that a wallet and the sum of a user's
 * entries may reach: 10^15 points. Both, and their difference (a drift, at most
 * 2 × 10^15), stay inside 2^53, so every one of them is exact as a JS number, as a
 * JSON number and in both engines' integer columns. Migration 5 holds the wallet and
 * each entry's `balance_after` to the same bound in the database.
 */
export const MAX_BALANCE_POINTS = 1_000_000_000_000_000;

const MAX_BALANCE = BigInt(MAX_BALANCE_POINTS);

/** Whether `points` is a balance the ledger may hold; exact for any size of `bigint`. */
export function withinBalanceRange(points: number | bigint): boolean {
  const exact = typeof points === "bigint" ? points : BigInt(points);
  return exact <= MAX_BALANCE && exact >= -MAX_BALANCE;
}

export type RangeDecision = { refused: false } | { refused: true; limit: number };

/**
 * Whether an entry of `amount` may post: the wallet, if the entry moves it, and the
 * user's ledger sum must both end inside the range. An entry that leaves an already
 * out-of-range value unchanged or brings it back inside is judged by where it ends.
 */
export function decideBalanceRange(amount: number, moves: boolean, walletPoints: number, ledgerSum: bigint): RangeDecision {
  // A wallet read beyond 2^53 is already rounded, but only by a few points: far outside the range either way.
  const walletOk = !moves || withinBalanceRange(BigInt(walletPoints) + BigInt(amount));
  if (walletOk && withinBalanceRange(ledgerSum + BigInt(amount))) return { refused: false };
  return { refused: true, limit: MAX_BALANCE_POINTS };
}

/**
 * The reversal rule as plain arithmetic, independent of `src/webhooks`: with an open or
 * lost chargeback every point of the purchase is reversed; otherwise the refunded share of
 * the points, rounded down, of the money refunded in total (a purchase paid 0 loses all on
 * any refund). Property tests check the ledger against it.
 */
export function modelReversalTarget(points: number, paidMinor: number, refunded: readonly number[], chargeback: "none" | "open" | "won" | "lost"): number {
  if (chargeback === "open" || chargeback === "lost") return points;
  if (refunded.length === 0) return 0;
  if (paidMinor === 0) return points;
  const total = refunded.reduce((sum, minor) => sum + minor, 0);
  return Math.floor((points * Math.min(total, paidMinor)) / paidMinor);
}

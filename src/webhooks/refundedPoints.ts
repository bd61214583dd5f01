/**
 * Points a purchase has lost once `refundedMinor` of `paidMinor` is refunded in total:
 * rounded down, so a user never loses more than the refunded share. Applied to the
 * cumulative refunded amount, the rounding never accumulates: the refund that completes
 * the amount reverses exactly the rest (docs/decisions/partial-refund-rounding.md).
 */
export function refundedPoints(points: number, paidMinor: number, refundedMinor: number): number {
  if (paidMinor <= 0) return points;
  const share = Math.min(refundedMinor, paidMinor);
  return Number((BigInt(points) * BigInt(share)) / BigInt(paidMinor));
}

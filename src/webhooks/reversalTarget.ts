import { refundedPoints } from "./refundedPoints.js";
import { unreachable } from "../unreachable.js";

/** One refund or chargeback phase recorded against a purchase (a `webhook_reversals` row). */
export interface RecordedCause {
  kind: "refund" | "chargeback" | "chargeback_won";
  key: string;
  /** Money the refund returned, in minor units; 0 for chargeback phases. */
  refundedMinor: number;
  /** For a won chargeback, the key of the chargeback it closes; null otherwise. */
  chargebackKey: string | null;
}

/**
 * The points of a purchase that must stand reversed once `causes` are recorded against
 * it. It looks only at the set, never at the order the causes arrived in: a chargeback
 * that is open (or lost) takes every point; otherwise the refunds take their share of
 * the money refunded in total, rounded down (docs/decisions/reversals-converge.md).
 */
export function reversalTarget(purchase: { points: number; paidMinor: number }, causes: readonly RecordedCause[]): number {
  const chargebacks = new Set<string>();
  const won = new Set<string>();
  let refunds = 0;
  let refundedMinor = 0n;
  for (const cause of causes) {
    switch (cause.kind) {
      case "refund":
        refunds++;
        refundedMinor += BigInt(cause.refundedMinor);
        break;
      case "chargeback":
        chargebacks.add(cause.key);
        break;
      case "chargeback_won":
        if (cause.chargebackKey !== null) won.add(cause.chargebackKey);
        break;
      default:
        unreachable(cause.kind, "reversal cause");
    }
  }
  if ([...chargebacks].some((key) => !won.has(key))) return purchase.points;
  if (refunds === 0) return 0;
  // Capped at the price before leaving BigInt, so a sum of huge refunds stays exact.
  const share = refundedMinor < BigInt(Math.max(0, purchase.paidMinor)) ? Number(refundedMinor) : Math.max(0, purchase.paidMinor);
  return refundedPoints(purchase.points, purchase.paidMinor, share);
}

import type { PaymentEvent, RefundItem } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext, ApplyResult } from "./ApplyResult.js";
import { findPurchase, lockPurchaseRef } from "./purchaseRecords.js";
import { reversalRecorded, reverseAndRecord } from "./reversePurchase.js";

type RefundEvent = Extract<PaymentEvent, { kind: "refund" }>;

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

/** Reverses each completed refund of a purchase once, in proportion to the money refunded. */
export async function applyRefund(trx: Trx, event: RefundEvent, context: ApplyContext): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  for (const refund of event.refunds) {
    await applyOneRefund(trx, purchase, refund, context);
  }
  return { status: "processed", landed: [] };
}

async function applyOneRefund(
  trx: Trx,
  purchase: NonNullable<Awaited<ReturnType<typeof findPurchase>>>,
  refund: RefundItem,
  context: ApplyContext,
): Promise<void> {
  if (await reversalRecorded(trx, refund.refundKey)) return;
  const before = await trx
    .selectFrom("webhook_reversals")
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>("refunded_minor"), eb.lit(0)).as("minor"),
      eb.fn.coalesce(eb.fn.sum<number>("points"), eb.lit(0)).as("points"),
    ])
    .where("purchase_ref", "=", purchase.purchase_ref)
    .where("kind", "=", "refund")
    .executeTakeFirstOrThrow();
  const target = refundedPoints(purchase.points, purchase.paid_minor, Number(before.minor) + refund.refundedMinor);
  const points = Math.max(0, target - Number(before.points));
  await reverseAndRecord(trx, purchase, { key: refund.refundKey, kind: "refund", refundedMinor: refund.refundedMinor, points }, context);
}

import type { PaymentEvent } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext, ApplyResult } from "./ApplyResult.js";
import { findPurchase, lockPurchaseRef } from "./purchaseRecords.js";
import { reversalRecorded, reversePurchase } from "./reversePurchase.js";

type RefundEvent = Extract<PaymentEvent, { kind: "refund" }>;

/**
 * Records each completed refund of a purchase once and brings the purchase to what its
 * refunds and chargebacks ask for: points in proportion to the money refunded in total
 * (docs/decisions/partial-refund-rounding.md), whatever arrived before.
 */
export async function applyRefund(trx: Trx, event: RefundEvent, context: ApplyContext): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  for (const refund of event.refunds) {
    if (await reversalRecorded(trx, refund.refundKey)) continue;
    await reversePurchase(trx, purchase, { kind: "refund", key: refund.refundKey, refundedMinor: refund.refundedMinor }, context);
  }
  return { status: "processed", landed: [] };
}

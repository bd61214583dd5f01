import { flakeId, paynowChargeback, paynowOrder, paynowRefund } from "./webhookFixtures.js";

/** What may happen to one purchase: its price, its refunds, and its chargeback's fate. */
export interface PurchaseFate {
  paidMinor: number;
  refundsMinor: number[];
  chargeback: "none" | "open" | "won" | "lost";
}

/** The PayNow deliveries of one purchase of `product` by `uid`: the order, its refunds, its chargeback and its close. */
export function purchaseDeliveries(fate: PurchaseFate, uid: string, product: string): Record<string, unknown>[] {
  const orderId = flakeId();
  const paymentId = flakeId();
  const deliveries: Record<string, unknown>[] = [
    paynowOrder({ orderId, uid, lines: [{ productId: product, quantity: 1 }], totalMinor: fate.paidMinor }),
    ...fate.refundsMinor.map((refundedMinor) => paynowRefund({ orderId, refundedMinor })),
  ];
  if (fate.chargeback !== "none") deliveries.push(paynowChargeback({ orderId, paymentId }));
  if (fate.chargeback === "won" || fate.chargeback === "lost") deliveries.push(paynowChargeback({ orderId, paymentId, closed: fate.chargeback }));
  return deliveries;
}

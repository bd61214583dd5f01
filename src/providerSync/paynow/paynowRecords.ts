import type { ChargebackRecord, PurchaseRecord, RefundRecord } from "../ProviderRecords.js";
import { snowflakeTimeMs, type OrderDto, type PaymentDto } from "./paynowDtos.js";

/**
 * PayNow answers as provider-neutral records, with the references and ledger keys
 * `readPaynowDelivery` gives the same order, refund and chargeback.
 */
export function purchaseOf(order: OrderDto): PurchaseRecord {
  const status = order.status === "created" ? "unpaid" : order.status === "canceled" ? "canceled" : "paid";
  return {
    kind: "purchase",
    providerId: order.id,
    credit: {
      purchaseKey: `paynow:order:${order.id}`,
      purchaseRefs: [`paynow:order:${order.id}`],
      lines: order.lines.map((line) => ({ catalogueIds: [line.product_id], quantity: line.quantity })),
      paidMinor: order.total_amount,
    },
    // The user id lives only in the checkout metadata, which the orders list does not carry.
    uid: null,
    status,
    providerStatus: order.status,
    currency: order.currency,
    occurredAt: new Date(snowflakeTimeMs(order.id)).toISOString(),
  };
}

const CHARGEBACK_STATUS = { pending: "open", lost: "lost", won: "won" } as const;

export function reversalsOf(payment: PaymentDto): (RefundRecord | ChargebackRecord)[] {
  const purchaseRef = `paynow:order:${payment.order_id}`;
  const paidAt = new Date(snowflakeTimeMs(payment.id)).toISOString();
  const records: (RefundRecord | ChargebackRecord)[] = (payment.refunds ?? []).map((refund) => ({
    kind: "refund",
    refundKey: `paynow:refund:${refund.id}`,
    purchaseRef,
    refundedMinor: refund.store_refund_amount,
    status: refund.status === "completed" ? "completed" : refund.status === "canceled" ? "canceled" : refund.status === "failed" ? "failed" : "pending",
    providerStatus: refund.status,
    occurredAt: new Date(refund.completed_at ?? refund.created_at ?? paidAt).toISOString(),
  }));
  const chargeback = payment.chargeback_status;
  if (chargeback && chargeback !== "none") {
    records.push({
      kind: "chargeback",
      reversalKey: `paynow:chargeback:${payment.id}:ON_CHARGEBACK`,
      reinstatementKey: `paynow:chargeback:${payment.id}:ON_CHARGEBACK_CLOSED`,
      purchaseRef,
      amountMinor: payment.amount,
      status: CHARGEBACK_STATUS[chargeback],
      providerStatus: chargeback,
      occurredAt: new Date(payment.chargeback_at ?? paidAt).toISOString(),
    });
  }
  return records;
}

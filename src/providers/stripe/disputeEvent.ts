import type { PaymentEvent } from "../PaymentEvent.js";

/** The dispute fields the ledger needs (Stripe's Dispute object). */
export interface StripeDispute {
  id: string;
  status: string;
  payment_intent: string;
}

/** Chargeback statuses at which the disputed funds have left the account. */
const FUNDS_WITHDRAWN_ON_CREATION = new Set(["needs_response", "under_review", "lost"]);

/**
 * What a dispute event does to points, following the money as Stripe's dispute
 * statuses describe it:
 *
 * - an inquiry (`warning_needs_response`, `warning_under_review`, `warning_closed`)
 *   moves no funds, so it reverses nothing, and its closing restores nothing;
 * - a chargeback withdraws the funds when it is created, and
 *   `charge.dispute.funds_withdrawn` says so whenever it happens (also when an inquiry
 *   escalates): reverse, once, under the dispute's reversal key;
 * - `charge.dispute.funds_reinstated`, or closing `won`, returns them: restore, once;
 * - closing `lost` leaves the reversal in place; `prevented` (the payment was refunded
 *   instead, and the refund arrives as its own event) and statuses not listed here
 *   change nothing (`charge.dispute.updated`, which only reports progress, is not read).
 */
export function disputeEvent(type: string, dispute: StripeDispute): PaymentEvent {
  const purchaseRef = `stripe:payment_intent:${dispute.payment_intent}`;
  const reversalKey = `stripe:dispute:${dispute.id}:reversal`;
  const reverse: PaymentEvent = { kind: "chargeback", purchaseRef, reversalKey };
  const restore: PaymentEvent = { kind: "chargeback_won", purchaseRef, reversalKey, reinstatementKey: `stripe:dispute:${dispute.id}:reinstatement` };
  const ignore: PaymentEvent = { kind: "ignored", reason: `dispute_${dispute.status}` };
  switch (type) {
    case "charge.dispute.funds_withdrawn":
      return reverse;
    case "charge.dispute.funds_reinstated":
      return restore;
    case "charge.dispute.created":
      return FUNDS_WITHDRAWN_ON_CREATION.has(dispute.status) ? reverse : ignore;
    case "charge.dispute.closed":
      return dispute.status === "won" ? restore : ignore;
    default:
      return ignore;
  }
}

/**
 * What a provider delivery means to the ledger, independent of the provider.
 *
 * References are provider-prefixed strings (`paynow:order:<id>`,
 * `stripe:payment_intent:<id>`): provider ids are flake ids or opaque strings and are
 * never turned into numbers. Keys are ledger idempotency keys.
 */

export type Provider = "paynow" | "stripe";
export const PROVIDERS: readonly Provider[] = ["paynow", "stripe"];

/** One line of a purchase: catalogue ids to try in order (a Stripe price, then its product). */
export interface PurchaseLine {
  catalogueIds: string[];
  quantity: number;
}

export interface RefundItem {
  /** Ledger key of the refund: `paynow:refund:<id>`, `stripe:refund:<re_id>`. */
  refundKey: string;
  /** Refunded money in minor units. */
  refundedMinor: number;
}

export type PaymentEvent =
  /** Credit catalogue points × quantity to `uid` (null when the delivery names no user). */
  | {
      kind: "credit";
      purchaseKey: string;
      /** Every reference a later refund or chargeback may use to find this purchase. */
      purchaseRefs: string[];
      uid: string | null;
      lines: PurchaseLine[];
      paidMinor: number;
    }
  /** Reverse points of a purchase in proportion to the money refunded. */
  | { kind: "refund"; purchaseRef: string; refunds: RefundItem[] }
  /** Reverse what remains of a purchase. */
  | { kind: "chargeback"; purchaseRef: string; reversalKey: string }
  /** Restore what the chargeback `reversalKey` reversed. */
  | { kind: "chargeback_won"; purchaseRef: string; reversalKey: string; reinstatementKey: string }
  /** A type or state we store but do not act on. */
  | { kind: "ignored"; reason: string };

/** A signed delivery whose content we cannot act on: stored as failed, still acknowledged. */
export interface InvalidPayload {
  kind: "invalid_payload";
  detail: string;
}

/** A verified delivery read far enough to store it. */
export interface ReadDelivery {
  eventId: string;
  eventType: string;
  /** Stripe's livemode flag; null when the provider does not send one. */
  livemode: boolean | null;
  event: PaymentEvent | InvalidPayload;
}

/** A user id as apps give them (the same rule the HTTP API applies to `:uid`). */
export const WEBHOOK_UID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

import { randomBytes } from "node:crypto";

/** One Stripe API object as the fake keeps it: Stripe's fields, `created` in Unix seconds. */
export type StripeRecord = Record<string, unknown> & { id: string; object: string; created: number };

/** The lists the fake answers, by their `/v1/` path. */
export type StripeListName = "events" | "checkout/sessions" | "refunds" | "disputes";

/** Where a webhook delivery of an event stands, as Stripe's `delivery_success` filter sees it. */
export type DeliveryState = "pending" | "succeeded" | "failed";

export interface SaleInput {
  uid: string;
  /** The catalogue price id Reckon maps to points (`metadata.price_id`). */
  priceId: string;
  quantity?: number;
  amountMinor: number;
  currency?: string;
  /** Where the app put its user id: Stripe's `client_reference_id` (default) or `metadata.uid`. */
  uidIn?: "client_reference_id" | "metadata";
}

export interface Sale {
  sessionId: string;
  paymentIntentId: string;
  chargeId: string;
}

const API_VERSION = "2025-01-27.acacia";
const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url").replace(/[-_]/g, "x")}`;
const copy = <T>(value: T): T => structuredClone(value);

/**
 * A Stripe account that sells points: checkout sessions, payment intents, charges,
 * refunds and disputes, each change recorded as an event in Stripe's envelope. It is the
 * state behind the fake API (fakeStripeApi.ts) and the webhook sender
 * (fakeStripeWebhooks.ts); the clock is passed in so tests choose every `created`.
 */
export class FakeStripeAccount {
  readonly livemode: boolean;
  readonly #now: () => Date;
  readonly #lists: Record<StripeListName, StripeRecord[]> = { events: [], "checkout/sessions": [], refunds: [], disputes: [] };
  readonly #positions = new Map<string, number>();
  readonly #charges = new Map<string, StripeRecord>();
  readonly #delivery = new Map<string, DeliveryState>();

  constructor(options: { livemode?: boolean; now?: () => Date } = {}) {
    this.livemode = options.livemode ?? false;
    this.#now = options.now ?? (() => new Date());
  }

  /** Every object of one list, oldest first (the API answers newest first). */
  records(list: StripeListName): readonly StripeRecord[] {
    return this.#lists[list];
  }

  find(list: StripeListName, id: string): StripeRecord | undefined {
    const position = this.position(list, id);
    return position === undefined ? undefined : this.#lists[list][position];
  }

  /** Where an object sits in its list (ids are unique across lists, by their prefixes). */
  position(list: StripeListName, id: string): number | undefined {
    const position = this.#positions.get(id);
    return position !== undefined && this.#lists[list][position]?.id === id ? position : undefined;
  }

  #record(list: StripeListName, record: StripeRecord): void {
    this.#positions.set(record.id, this.#lists[list].push(record) - 1);
  }

  deliveryState(eventId: string): DeliveryState | undefined {
    return this.#delivery.get(eventId);
  }

  markDelivery(eventId: string, state: DeliveryState): void {
    if (!this.#delivery.has(eventId)) throw new Error(`no such event: ${eventId}`);
    this.#delivery.set(eventId, state);
    const event = this.find("events", eventId)!;
    event["pending_webhooks"] = state === "succeeded" ? 0 : 1;
  }

  /** A paid checkout: session, payment intent and charge, with the events Stripe sends for them. */
  sell(input: SaleInput): Sale {
    const created = this.#seconds();
    const quantity = input.quantity ?? 1;
    const currency = input.currency ?? "usd";
    const paymentIntentId = newId("pi");
    const chargeId = newId("ch");
    const metadata: Record<string, string> = { price_id: input.priceId, quantity: String(quantity) };
    if (input.uidIn === "metadata") metadata["uid"] = input.uid;
    const session: StripeRecord = {
      id: newId(this.livemode ? "cs_live" : "cs_test"),
      object: "checkout.session",
      created,
      livemode: this.livemode,
      mode: "payment",
      status: "complete",
      payment_status: "paid",
      client_reference_id: input.uidIn === "metadata" ? null : input.uid,
      metadata,
      payment_intent: paymentIntentId,
      amount_subtotal: input.amountMinor,
      amount_total: input.amountMinor,
      currency,
    };
    const paymentIntent = { id: paymentIntentId, object: "payment_intent", created, livemode: this.livemode, amount: input.amountMinor, amount_received: input.amountMinor, currency, status: "succeeded", latest_charge: chargeId, metadata: {} };
    const charge: StripeRecord = {
      id: chargeId,
      object: "charge",
      created,
      livemode: this.livemode,
      amount: input.amountMinor,
      amount_refunded: 0,
      currency,
      paid: true,
      refunded: false,
      disputed: false,
      status: "succeeded",
      payment_intent: paymentIntentId,
      refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
    };
    this.#record("checkout/sessions", session);
    this.#charges.set(paymentIntentId, charge);
    this.#emit("payment_intent.succeeded", paymentIntent);
    this.#emit("charge.succeeded", charge);
    this.#emit("checkout.session.completed", session);
    return { sessionId: session.id, paymentIntentId, chargeId };
  }

  /** A succeeded refund of part or all of a payment: `refund.created` and `charge.refunded`. */
  refund(paymentIntentId: string, amountMinor: number): string {
    const charge = this.#charge(paymentIntentId);
    const refund: StripeRecord = {
      id: newId("re"),
      object: "refund",
      created: this.#seconds(),
      amount: amountMinor,
      charge: charge.id,
      currency: charge["currency"],
      payment_intent: paymentIntentId,
      reason: "requested_by_customer",
      status: "succeeded",
    };
    this.#record("refunds", refund);
    charge["amount_refunded"] = (charge["amount_refunded"] as number) + amountMinor;
    charge["refunded"] = charge["amount_refunded"] === charge["amount"];
    (charge["refunds"] as { data: StripeRecord[] }).data.unshift(refund);
    this.#emit("refund.created", refund);
    this.#emit("charge.refunded", charge);
    return refund.id;
  }

  /** A chargeback (funds withdrawn at creation): `charge.dispute.created` and `charge.dispute.funds_withdrawn`. */
  dispute(paymentIntentId: string): string {
    const charge = this.#charge(paymentIntentId);
    charge["disputed"] = true;
    const dispute: StripeRecord = {
      id: newId("dp"),
      object: "dispute",
      created: this.#seconds(),
      livemode: this.livemode,
      amount: charge["amount"],
      charge: charge.id,
      currency: charge["currency"],
      payment_intent: paymentIntentId,
      reason: "fraudulent",
      status: "needs_response",
      is_charge_refundable: false,
    };
    this.#record("disputes", dispute);
    this.#emit("charge.dispute.created", dispute);
    this.#emit("charge.dispute.funds_withdrawn", dispute);
    return dispute.id;
  }

  /** Closes a dispute; a won one returns the funds (`charge.dispute.funds_reinstated`) before closing. */
  closeDispute(disputeId: string, status: "won" | "lost"): void {
    const dispute = this.find("disputes", disputeId);
    if (!dispute) throw new Error(`no such dispute: ${disputeId}`);
    dispute["status"] = status;
    if (status === "won") this.#emit("charge.dispute.funds_reinstated", dispute);
    this.#emit("charge.dispute.closed", dispute);
  }

  #charge(paymentIntentId: string): StripeRecord {
    const charge = this.#charges.get(paymentIntentId);
    if (!charge) throw new Error(`no such payment intent: ${paymentIntentId}`);
    return charge;
  }

  #seconds(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }

  /** Records an event whose `data.object` is the object as it is now (later changes do not alter it). */
  #emit(type: string, object: Record<string, unknown>): void {
    const event: StripeRecord = {
      id: newId("evt"),
      object: "event",
      api_version: API_VERSION,
      created: this.#seconds(),
      livemode: this.livemode,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: copy(object) },
    };
    this.#record("events", event);
    this.#delivery.set(event.id, "pending");
  }
}

import { z } from "zod";
import { describeIssue, invalidDelivery, parseJson, parsePayload } from "../invalidDelivery.js";
import { WEBHOOK_UID_PATTERN, type InvalidPayload, type PaymentEvent, type PurchaseLine, type ReadDelivery } from "../PaymentEvent.js";
import { disputeEvent } from "./disputeEvent.js";

const Id = z.string().min(1).max(255);
/** The most units one line may carry, from expanded line items or from metadata. */
const MAX_QUANTITY = 1_000_000;
/** Stripe metadata values are strings: a quantity is written in plain decimal, without sign or leading zero. */
const QUANTITY = /^[1-9][0-9]{0,6}$/;
const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Metadata = z.record(z.string(), z.unknown()).nullish();

const Envelope = z.object({
  id: Id,
  type: z.string().min(1).max(200),
  livemode: z.boolean(),
  data: z.object({ object: z.unknown() }),
});

const Session = z.object({
  id: Id,
  payment_status: z.string(),
  client_reference_id: z.string().nullish(),
  metadata: Metadata,
  payment_intent: z.union([Id, z.object({ id: Id })]).nullish(),
  amount_total: MinorUnits.nullish(),
  line_items: z
    .object({
      data: z.array(
        z.object({
          quantity: z.number().int().min(1).max(MAX_QUANTITY).nullish(),
          price: z.object({ id: Id, product: z.union([Id, z.object({ id: Id })]) }).nullish(),
        }),
      ),
    })
    .nullish(),
});

const Refund = z.object({ id: Id, amount: MinorUnits, status: z.string().nullish(), payment_intent: Id.nullish() });
const Charge = z.object({
  payment_intent: Id.nullish(),
  refunds: z.object({ data: z.array(Refund) }).nullish(),
});
const Dispute = z.object({ id: Id, status: z.string(), payment_intent: Id });

/**
 * Every event type this reader acts on (the cases of `meaning` below); others are stored
 * and ignored. The provider sync lists undelivered events of exactly these types.
 */
export const STRIPE_EVENT_TYPES_READ = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "refund.created",
  "refund.updated",
  "charge.refund.updated",
  "charge.refunded",
  "charge.dispute.created",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
  "charge.dispute.closed",
] as const;

const idOf = (value: string | { id: string }) => (typeof value === "string" ? value : value.id);

/** Reads a verified Stripe delivery: its identity for storage, and what it means. */
export function readStripeDelivery(rawBody: Uint8Array): ReadDelivery {
  const parsed = parseJson(rawBody);
  if ("problem" in parsed) return invalidDelivery(rawBody, undefined, parsed.problem);
  const { json } = parsed;
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) {
    const type = typeof json === "object" && json !== null ? (json as { type?: unknown }).type : undefined;
    return invalidDelivery(rawBody, type, describeIssue(envelope.error));
  }
  const { id, type, livemode, data } = envelope.data;
  return { eventId: id, eventType: type, livemode, event: meaning(type, data.object) };
}

function meaning(type: string, object: unknown): ReadDelivery["event"] {
  switch (type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return readStripeSession(object);
    case "refund.created":
    case "refund.updated":
    case "charge.refund.updated":
      return parsePayload(Refund, object, (refund) => refunds(refund.payment_intent, [refund]));
    case "charge.refunded":
      return parsePayload(Charge, object, (charge) => refunds(charge.payment_intent, charge.refunds?.data ?? []));
    case "charge.dispute.created":
    case "charge.dispute.funds_withdrawn":
    case "charge.dispute.funds_reinstated":
    case "charge.dispute.closed":
      return parsePayload(Dispute, object, (dispute) => disputeEvent(type, dispute));
    default:
      return { kind: "ignored", reason: "unhandled_event_type" };
  }
}

/**
 * What a checkout session means for points, by the rules its webhook is read with: the
 * provider sync reads sessions from Stripe's own list and must derive the same purchase
 * key, references, user and lines a `checkout.session.completed` delivery would.
 */
export function readStripeSession(object: unknown): ReadDelivery["event"] {
  return parsePayload(Session, object, (session) =>
    session.payment_status === "paid" ? credit(session) : { kind: "ignored", reason: `payment_${session.payment_status}` },
  );
}

/**
 * Points come from the catalogue by price id, then product id: from expanded
 * `line_items` when the session carries them, else from `metadata.price_id` /
 * `metadata.product_id` (× `metadata.quantity`, default 1) set when the session was created.
 *
 * What was paid is the denominator of every later partial refund, so a paid session
 * that does not say it is unreadable (failed, replayable), never a purchase that cost
 * nothing; a quantity that is not a plain whole number fails the same way.
 */
function credit(session: z.infer<typeof Session>): PaymentEvent | InvalidPayload {
  if (session.amount_total === undefined || session.amount_total === null) {
    return { kind: "invalid_payload", detail: "data.object.amount_total: a paid session must say what was paid" };
  }
  const lines = sessionLines(session);
  if (lines === null) {
    return { kind: "invalid_payload", detail: `data.object.metadata.quantity: must be a whole number from 1 to ${MAX_QUANTITY}` };
  }
  const uid = session.client_reference_id ?? session.metadata?.["uid"];
  const paymentIntent = session.payment_intent ? idOf(session.payment_intent) : null;
  return {
    kind: "credit",
    purchaseKey: `stripe:checkout:${session.id}`,
    purchaseRefs: [
      `stripe:checkout:${session.id}`,
      ...(paymentIntent ? [`stripe:payment_intent:${paymentIntent}`] : []),
    ],
    uid: typeof uid === "string" && WEBHOOK_UID_PATTERN.test(uid) ? uid : null,
    lines,
    paidMinor: session.amount_total,
  };
}

/** The lines of a session; null when `metadata.quantity` is not a whole number from 1 to MAX_QUANTITY. */
function sessionLines(session: z.infer<typeof Session>): PurchaseLine[] | null {
  const items = session.line_items?.data ?? [];
  if (items.length > 0) {
    return items.map((item) => ({
      catalogueIds: item.price ? [item.price.id, idOf(item.price.product)] : [],
      quantity: item.quantity ?? 1,
    }));
  }
  const metadata = session.metadata ?? {};
  const ids = [metadata["price_id"], metadata["product_id"]].filter((id): id is string => typeof id === "string");
  if (ids.length === 0) return [];
  const written = metadata["quantity"];
  if (written === undefined || written === null) return [{ catalogueIds: ids, quantity: 1 }];
  if (typeof written !== "string" || !QUANTITY.test(written) || Number(written) > MAX_QUANTITY) return null;
  return [{ catalogueIds: ids, quantity: Number(written) }];
}

function refunds(paymentIntent: string | null | undefined, items: z.infer<typeof Refund>[]): ReadDelivery["event"] {
  if (!paymentIntent) return { kind: "invalid_payload", detail: "data.object.payment_intent: missing" };
  const succeeded = items.filter((refund) => refund.status === "succeeded");
  if (succeeded.length === 0) return { kind: "ignored", reason: "refund_not_succeeded" };
  return {
    kind: "refund",
    purchaseRef: `stripe:payment_intent:${paymentIntent}`,
    refunds: succeeded.map((refund) => ({ refundKey: `stripe:refund:${refund.id}`, refundedMinor: refund.amount })),
  };
}

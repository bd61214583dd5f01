import { z } from "zod";
import { describeIssue, invalidDelivery, parseJson, parsePayload } from "../invalidDelivery.js";
import { WEBHOOK_UID_PATTERN, type PaymentEvent, type PurchaseLine, type ReadDelivery } from "../PaymentEvent.js";

const Id = z.string().min(1).max(255);
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
          quantity: z.number().int().min(1).max(1_000_000).nullish(),
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
      return parsePayload(Session, object, (session) =>
        session.payment_status === "paid" ? credit(session) : { kind: "ignored", reason: `payment_${session.payment_status}` },
      );
    case "refund.created":
    case "refund.updated":
    case "charge.refund.updated":
      return parsePayload(Refund, object, (refund) => refunds(refund.payment_intent, [refund]));
    case "charge.refunded":
      return parsePayload(Charge, object, (charge) => refunds(charge.payment_intent, charge.refunds?.data ?? []));
    case "charge.dispute.created":
    case "charge.dispute.funds_withdrawn":
      return parsePayload(Dispute, object, (dispute) => ({
        kind: "chargeback",
        purchaseRef: `stripe:payment_intent:${dispute.payment_intent}`,
        reversalKey: `stripe:dispute:${dispute.id}:reversal`,
      }));
    case "charge.dispute.funds_reinstated":
    case "charge.dispute.closed":
      return parsePayload(Dispute, object, (dispute): PaymentEvent => {
        if (type === "charge.dispute.closed" && dispute.status !== "won") {
          return { kind: "ignored", reason: `dispute_${dispute.status}` };
        }
        return {
          kind: "chargeback_won",
          purchaseRef: `stripe:payment_intent:${dispute.payment_intent}`,
          reversalKey: `stripe:dispute:${dispute.id}:reversal`,
          reinstatementKey: `stripe:dispute:${dispute.id}:reinstatement`,
        };
      });
    default:
      return { kind: "ignored", reason: "unhandled_event_type" };
  }
}

/**
 * Points come from the catalogue by price id, then product id: from expanded
 * `line_items` when the session carries them, else from `metadata.price_id` /
 * `metadata.product_id` (× `metadata.quantity`, default 1) set when the session was created.
 */
function credit(session: z.infer<typeof Session>): PaymentEvent {
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
    lines: sessionLines(session),
    paidMinor: session.amount_total ?? 0,
  };
}

function sessionLines(session: z.infer<typeof Session>): PurchaseLine[] {
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
  const quantity = Number(metadata["quantity"] ?? 1);
  return [{ catalogueIds: ids, quantity: Number.isSafeInteger(quantity) && quantity > 0 ? quantity : 1 }];
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

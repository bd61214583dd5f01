import { z } from "zod";
import { describeIssue, invalidDelivery, parseJson, parsePayload } from "../invalidDelivery.js";
import { WEBHOOK_UID_PATTERN, type PaymentEvent, type ReadDelivery } from "../PaymentEvent.js";

/** PayNow ids are flake ids longer than a JS number holds: only strings are accepted. */
const Id = z.string().min(1).max(100);
const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const Envelope = z.object({ event_type: z.string().min(1).max(200), event_id: Id, body: z.unknown() });

const Order = z.object({
  id: Id,
  checkout: z.object({ metadata: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  total_amount: MinorUnits,
  lines: z.array(z.object({ product_id: Id, quantity: z.number().int().min(1).max(1_000_000) })).min(1),
});

const Refund = z.object({
  id: Id,
  order_id: Id,
  store_refund_amount: MinorUnits,
  status: z.string(),
});

const Chargeback = z.object({ id: Id, order_id: Id, chargeback_status: z.string().nullish() });

/** Reads a verified PayNow delivery: its identity for storage, and what it means. */
export function readPaynowDelivery(rawBody: Uint8Array): ReadDelivery {
  const parsed = parseJson(rawBody);
  if ("problem" in parsed) return invalidDelivery(rawBody, undefined, parsed.problem);
  const { json } = parsed;
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) {
    const type = typeof json === "object" && json !== null ? (json as { event_type?: unknown }).event_type : undefined;
    return invalidDelivery(rawBody, type, describeIssue(envelope.error));
  }
  const { event_id: eventId, event_type: eventType, body } = envelope.data;
  return { eventId, eventType, livemode: null, event: meaning(eventType, body) };
}

function meaning(eventType: string, body: unknown): ReadDelivery["event"] {
  switch (eventType) {
    case "ON_ORDER_COMPLETED":
      return parsePayload(Order, body, (order): PaymentEvent => {
        const uid = order.checkout?.metadata?.["uid"];
        return {
          kind: "credit",
          purchaseKey: `paynow:order:${order.id}`,
          purchaseRefs: [`paynow:order:${order.id}`],
          uid: typeof uid === "string" && WEBHOOK_UID_PATTERN.test(uid) ? uid : null,
          lines: order.lines.map((line) => ({ catalogueIds: [line.product_id], quantity: line.quantity })),
          paidMinor: order.total_amount,
        };
      });
    case "ON_REFUND":
      return parsePayload(Refund, body, (refund): PaymentEvent => {
        if (refund.status !== "completed") return { kind: "ignored", reason: `refund_${refund.status}` };
        return {
          kind: "refund",
          purchaseRef: `paynow:order:${refund.order_id}`,
          refunds: [{ refundKey: `paynow:refund:${refund.id}`, refundedMinor: refund.store_refund_amount }],
        };
      });
    case "ON_CHARGEBACK":
      return parsePayload(Chargeback, body, (chargeback): PaymentEvent => ({
        kind: "chargeback",
        purchaseRef: `paynow:order:${chargeback.order_id}`,
        reversalKey: `paynow:chargeback:${chargeback.id}:ON_CHARGEBACK`,
      }));
    case "ON_CHARGEBACK_CLOSED":
      return parsePayload(Chargeback, body, (chargeback): PaymentEvent => {
        if (chargeback.chargeback_status !== "won") {
          return { kind: "ignored", reason: `chargeback_${chargeback.chargeback_status ?? "closed"}` };
        }
        return {
          kind: "chargeback_won",
          purchaseRef: `paynow:order:${chargeback.order_id}`,
          reversalKey: `paynow:chargeback:${chargeback.id}:ON_CHARGEBACK`,
          reinstatementKey: `paynow:chargeback:${chargeback.id}:ON_CHARGEBACK_CLOSED`,
        };
      });
    default:
      return { kind: "ignored", reason: "unhandled_event_type" };
  }
}

import { z } from "zod";
import { describeIssue } from "../../providers/invalidDelivery.js";
import { disputeEvent } from "../../providers/stripe/disputeEvent.js";
import { readStripeDelivery, readStripeSession } from "../../providers/stripe/readStripeDelivery.js";
import type { ChargebackRecord, DeliveryRecord, MalformedRecord, PurchaseRecord, RefundRecord } from "../ProviderRecords.js";

/** Unix seconds as Stripe writes `created`. */
const Created = z.number().int().min(0).max(253_402_300_799);
const Id = z.string().min(1).max(255);
const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const Event = z.object({ id: Id, type: z.string(), created: Created, livemode: z.boolean(), data: z.object({ object: z.record(z.string(), z.unknown()) }) });
const Session = z.object({ id: Id, status: z.string().nullish(), payment_status: z.string(), created: Created, currency: z.string().nullish() });
const Refund = z.object({ id: Id, amount: MinorUnits, status: z.string().nullish(), payment_intent: Id.nullish(), created: Created });
const Dispute = z.object({ id: Id, amount: MinorUnits, status: z.string(), payment_intent: Id, created: Created });

const isoOf = (createdSeconds: number) => new Date(createdSeconds * 1000).toISOString();
const idOf = (item: unknown) => (typeof item === "object" && item !== null && typeof (item as { id?: unknown }).id === "string" ? (item as { id: string }).id : null);

/** An item Stripe answered that Reckon cannot read: a finding, never a credit. */
export function malformed(source: string, item: unknown, position: string, detail: string): MalformedRecord {
  return { kind: "malformed", source, subject: idOf(item) ?? position, detail };
}

/**
 * An undelivered event as the delivery to import: the event's JSON, which the webhook
 * path reads exactly as if Stripe had sent it. An event whose JSON that reader would not
 * file under its own `evt_` id (it would be stored as an unreadable body) is malformed.
 */
export function deliveryRecord(item: unknown, position: string): DeliveryRecord | MalformedRecord {
  const event = Event.safeParse(item);
  if (!event.success) return malformed("events", item, position, describeIssue(event.error));
  const payload = new TextEncoder().encode(JSON.stringify(item));
  const read = readStripeDelivery(payload);
  if (read.eventId !== event.data.id) return malformed("events", item, position, "the event does not read as a Stripe delivery");
  return { kind: "delivery", eventId: event.data.id, eventType: event.data.type, state: "failed", occurredAt: isoOf(event.data.created), payload };
}

/**
 * What Stripe says about a checkout session, with the credit its webhook would carry:
 * the session is read by the webhook's own rules (`readStripeSession`), so the purchase
 * key, references, user id and lines are the ones a `checkout.session.completed`
 * delivery gives. An unpaid or expired session is read as if paid only to name its keys.
 */
export function purchaseRecord(item: unknown, position: string): PurchaseRecord | MalformedRecord {
  const session = Session.safeParse(item);
  if (!session.success) return malformed("checkout_sessions", item, position, describeIssue(session.error));
  const { id, status, payment_status: paymentStatus, created, currency } = session.data;
  const read = readStripeSession({ ...(item as object), payment_status: "paid" });
  if (read.kind !== "credit") return malformed("checkout_sessions", item, position, read.kind === "invalid_payload" ? read.detail : `not a purchase (${read.kind})`);
  const { kind: _kind, uid, ...credit } = read;
  return {
    kind: "purchase",
    providerId: id,
    credit,
    uid,
    status: status === "expired" ? "canceled" : status === "complete" && paymentStatus === "paid" ? "paid" : "unpaid",
    providerStatus: `${status ?? "unknown"}/${paymentStatus}`,
    currency: (currency ?? "").toUpperCase(),
    occurredAt: isoOf(created),
  };
}

const REFUND_STATUS: Record<string, RefundRecord["status"]> = { succeeded: "completed", pending: "pending", requires_action: "pending", failed: "failed", canceled: "canceled" };

/** A refund under the key its webhook gives it (`stripe:refund:<re_id>`); only `succeeded` reverses points. */
export function refundRecord(item: unknown, position: string): RefundRecord | MalformedRecord {
  const refund = Refund.safeParse(item);
  if (!refund.success) return malformed("refunds", item, position, describeIssue(refund.error));
  const { id, amount, status, payment_intent: paymentIntent, created } = refund.data;
  if (!paymentIntent) return malformed("refunds", item, position, "payment_intent: a refund Reckon can match names its payment intent");
  const mapped = REFUND_STATUS[status ?? ""];
  if (!mapped) return malformed("refunds", item, position, `status: unknown refund status ${JSON.stringify(status)}`);
  return {
    kind: "refund",
    refundKey: `stripe:refund:${id}`,
    purchaseRef: `stripe:payment_intent:${paymentIntent}`,
    refundedMinor: amount,
    status: mapped,
    providerStatus: status ?? "unknown",
    occurredAt: isoOf(created),
  };
}

/** Dispute statuses at which the funds are out (`open`, `lost`) or came back (`won`); inquiries and prevented disputes move none. */
const DISPUTE_STATUS: Record<string, ChargebackRecord["status"]> = { needs_response: "open", under_review: "open", lost: "lost", won: "won" };

/**
 * A dispute under the keys its webhooks give it (stripe-disputes.md); null for an inquiry
 * (`warning_*`) or a prevented dispute, which move no money and so no points.
 */
export function chargebackRecord(item: unknown, position: string): ChargebackRecord | MalformedRecord | null {
  const dispute = Dispute.safeParse(item);
  if (!dispute.success) return malformed("disputes", item, position, describeIssue(dispute.error));
  const { id, amount, status, payment_intent: paymentIntent, created } = dispute.data;
  const mapped = DISPUTE_STATUS[status];
  if (!mapped) return null;
  const keys = disputeEvent("charge.dispute.closed", { id, status: "won", payment_intent: paymentIntent });
  if (keys.kind !== "chargeback_won") throw new Error("a won dispute restores its points");
  return {
    kind: "chargeback",
    reversalKey: keys.reversalKey,
    reinstatementKey: keys.reinstatementKey,
    purchaseRef: keys.purchaseRef,
    amountMinor: amount,
    status: mapped,
    providerStatus: status,
    occurredAt: isoOf(created),
  };
}

/**
 * What one ACKed delivery means, read from its raw bytes by the providers' documented
 * rules (PROVIDERS.md), independently of Reckon's parsers.
 */
export type Fact =
  | { fact: "purchase"; ref: string; uid: string; lines: { productId: string; quantity: number }[]; paidMinor: bigint }
  | { fact: "refund"; ref: string; refundKey: string; refundedMinor: bigint }
  | { fact: "chargeback"; ref: string; chargebackKey: string }
  | { fact: "chargeback_won"; ref: string; chargebackKey: string }
  | { fact: "nothing" };

type Json = Record<string, any>;

const NOTHING: Fact = { fact: "nothing" };

export function readDelivery(provider: "paynow" | "stripe", raw: string): Fact {
  const event = JSON.parse(raw) as Json;
  return provider === "paynow" ? readPaynow(event) : readStripe(event);
}

function readPaynow(event: Json): Fact {
  const body = event.body as Json;
  switch (event.event_type) {
    case "ON_ORDER_COMPLETED":
      return {
        fact: "purchase",
        ref: `paynow:${body.id}`,
        uid: body.checkout.metadata.uid,
        lines: (body.lines as Json[]).map((line) => ({ productId: line.product_id, quantity: line.quantity })),
        paidMinor: BigInt(body.total_amount),
      };
    case "ON_REFUND":
      // Only a completed refund moved money back.
      if (body.status !== "completed") return NOTHING;
      return { fact: "refund", ref: `paynow:${body.order_id}`, refundKey: `paynow:${body.id}`, refundedMinor: BigInt(body.store_refund_amount) };
    case "ON_CHARGEBACK":
      return { fact: "chargeback", ref: `paynow:${body.order_id}`, chargebackKey: `paynow:${body.id}` };
    case "ON_CHARGEBACK_CLOSED":
      return body.chargeback_status === "won" ? { fact: "chargeback_won", ref: `paynow:${body.order_id}`, chargebackKey: `paynow:${body.id}` } : NOTHING;
    default:
      return NOTHING;
  }
}

function readStripe(event: Json): Fact {
  const object = event.data.object as Json;
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      if (object.payment_status !== "paid") return NOTHING;
      return {
        fact: "purchase",
        ref: `stripe:${object.payment_intent}`,
        uid: object.metadata.uid ?? object.client_reference_id,
        lines: [{ productId: object.metadata.price_id, quantity: Number(object.metadata.quantity ?? "1") }],
        paidMinor: BigInt(object.amount_total),
      };
    case "refund.created":
    case "refund.updated":
      if (object.status !== "succeeded") return NOTHING;
      return { fact: "refund", ref: `stripe:${object.payment_intent}`, refundKey: `stripe:${object.id}`, refundedMinor: BigInt(object.amount) };
    case "charge.dispute.created":
      // Funds leave at creation for a chargeback; an inquiry (warning_*) takes nothing.
      return ["needs_response", "under_review", "lost"].includes(object.status) ? { fact: "chargeback", ref: `stripe:${object.payment_intent}`, chargebackKey: `stripe:${object.id}` } : NOTHING;
    case "charge.dispute.funds_withdrawn":
      return { fact: "chargeback", ref: `stripe:${object.payment_intent}`, chargebackKey: `stripe:${object.id}` };
    case "charge.dispute.funds_reinstated":
      return { fact: "chargeback_won", ref: `stripe:${object.payment_intent}`, chargebackKey: `stripe:${object.id}` };
    case "charge.dispute.closed":
      return object.status === "won" ? { fact: "chargeback_won", ref: `stripe:${object.payment_intent}`, chargebackKey: `stripe:${object.id}` } : NOTHING;
    default:
      return NOTHING;
  }
}

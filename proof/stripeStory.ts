import { PRODUCTS } from "./catalogue.js";
import type { Random } from "./random.js";
import type { StoryEvent } from "./paynowStory.js";

/**
 * A Stripe Checkout purchase and what may follow it: partial refunds (some announced
 * twice, by refund.created then refund.updated), a dispute whose funds are withdrawn
 * and then won (closed or funds_reinstated), lost, or left open.
 */
export function stripeStory(random: Random, uid: string, laterFollowUps: () => number): StoryEvent[] {
  const product = random.pick(PRODUCTS.filter((item) => item.provider === "stripe"));
  const quantity = random.int(1, 4);
  const paymentIntent = `pi_${random.hex(24)}`;
  const paid = product.unitPriceMinor * quantity;
  const events: StoryEvent[] = [];
  const event = (offset: number, type: string, object: object) => {
    const eventId = `evt_${random.hex(24)}`;
    const envelope = { id: eventId, object: "event", type, livemode: false, created: Math.floor(Date.now() / 1000), data: { object } };
    events.push({ offset, eventId, body: JSON.stringify(envelope) });
  };
  event(0, "checkout.session.completed", {
    id: `cs_test_${random.hex(24)}`,
    object: "checkout.session",
    payment_status: "paid",
    client_reference_id: null,
    metadata: { uid, price_id: product.productId, quantity: String(quantity) },
    payment_intent: paymentIntent,
    amount_total: paid,
    currency: "usd",
  });
  const charge = `ch_${random.hex(24)}`;
  if (random.chance(0.3)) {
    const refunds = random.int(1, 3);
    for (let i = 0; i < refunds; i++) {
      const refund = { id: `re_${random.hex(24)}`, object: "refund", amount: random.int(1, Math.max(1, Math.floor(paid / 2))), status: "succeeded", payment_intent: paymentIntent, charge };
      event(laterFollowUps(), "refund.created", refund);
      if (random.chance(0.3)) event(laterFollowUps(), "refund.updated", refund);
    }
  }
  if (random.chance(0.15)) {
    const disputeId = `dp_${random.hex(24)}`;
    const dispute = (status: string) => ({ id: disputeId, object: "dispute", amount: paid, status, payment_intent: paymentIntent, charge });
    event(laterFollowUps(), "charge.dispute.created", dispute("needs_response"));
    if (random.chance(0.5)) event(laterFollowUps(), "charge.dispute.funds_withdrawn", dispute("needs_response"));
    const outcome = random.next();
    if (outcome < 0.3) event(laterFollowUps(), "charge.dispute.closed", dispute("won"));
    else if (outcome < 0.5) event(laterFollowUps(), "charge.dispute.funds_reinstated", dispute("under_review"));
    else if (outcome < 0.8) event(laterFollowUps(), "charge.dispute.closed", dispute("lost"));
  }
  return events;
}

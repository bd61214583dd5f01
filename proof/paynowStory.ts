import { PRODUCTS } from "./catalogue.js";
import type { Random } from "./random.js";

/** One delivery of a story, at a position relative to its purchase (negative: before it). */
export interface StoryEvent {
  offset: number;
  eventId: string;
  body: string;
}

const STORE = "321641745957789696";

/**
 * A PayNow purchase and what may follow it: partial and repeated refunds, a refund
 * still processing (ignored), a chargeback won, lost or still open, and unrelated
 * events (ignored). Shapes from PROVIDERS.md; ids are flake strings.
 */
export function paynowStory(random: Random, uid: string, laterFollowUps: () => number): StoryEvent[] {
  const product = random.pick(PRODUCTS.filter((item) => item.provider === "paynow"));
  const quantity = random.int(1, 3);
  const orderId = random.flake();
  const paid = product.unitPriceMinor * quantity;
  const events: StoryEvent[] = [];
  const event = (offset: number, type: string, body: object) => {
    const eventId = random.flake();
    events.push({ offset, eventId, body: JSON.stringify({ event_type: type, event_id: eventId, body }) });
  };
  event(0, "ON_ORDER_COMPLETED", {
    id: orderId,
    store_id: STORE,
    customer: { id: random.flake(), name: "Proof" },
    checkout_id: random.flake(),
    checkout: { id: random.flake(), metadata: { uid }, lines: [] },
    currency: "USD",
    total_amount: paid,
    status: "completed",
    completed_at: new Date().toISOString(),
    lines: [{ id: random.flake(), product_id: product.productId, product: { id: product.productId, name: "Points", price: product.unitPriceMinor, metadata: {} }, price: product.unitPriceMinor, quantity, total_amount: paid }],
  });
  const paymentId = random.flake();
  if (random.chance(0.3)) {
    const refunds = random.int(1, 3);
    for (let i = 0; i < refunds; i++) {
      // Now and then the refunds add up to more than was paid: the ledger must cap them.
      const refunded = random.int(1, Math.max(1, Math.floor(paid / (random.chance(0.2) ? 1 : 2))));
      event(laterFollowUps(), "ON_REFUND", {
        id: random.flake(),
        order_id: orderId,
        payment_id: paymentId,
        currency: "USD",
        amount: paid,
        store_refund_amount: refunded,
        status: random.chance(0.9) ? "completed" : "processing",
        completed_at: new Date().toISOString(),
      });
    }
  }
  if (random.chance(0.15)) {
    const chargeback = (status: string) => ({ id: paymentId, order_id: orderId, amount: paid, status: "completed", chargeback_status: status, chargeback_at: new Date().toISOString() });
    event(laterFollowUps(), "ON_CHARGEBACK", chargeback("open"));
    const outcome = random.next();
    if (outcome < 0.5) event(laterFollowUps(), "ON_CHARGEBACK_CLOSED", chargeback("won"));
    else if (outcome < 0.8) event(laterFollowUps(), "ON_CHARGEBACK_CLOSED", chargeback("lost"));
  }
  if (random.chance(0.05)) event(laterFollowUps(), "ON_PAYMENT_COMPLETED", { id: paymentId, order_id: orderId, amount: paid, status: "completed" });
  return events;
}

import { FakeStripeAccount, type Sale, type StripeRecord } from "../../src/demo/fakeStripeAccount.js";
import { startFakeStripeApi, type FakeStripeApi } from "../../src/demo/fakeStripeApi.js";
import { FakeStripeWebhooks, type DeliveryFate, type SendDelivery } from "../../src/demo/fakeStripeWebhooks.js";
import type { WebhookHarness } from "./webhookFixtures.js";

export const STRIPE_PRICE = "price_sync_10pts";
export const POINTS_PER_UNIT = 10;

/** One sale of the story: who bought what, what Stripe did to it afterwards. */
export interface PlantedSale {
  uid: string;
  sale: Sale;
  quantity: number;
  paidMinor: number;
  refundsMinor: number[];
  dispute: "none" | "open" | "won" | "lost";
}

/** The events the story lost, by why they matter: each is one `missing_delivery` the sync must repair. */
export interface StripeStory {
  api: FakeStripeApi;
  webhooks: FakeStripeWebhooks;
  sales: PlantedSale[];
  /** Events of types Reckon reads that never reached it, each one finding. */
  lostEventIds: string[];
  /** The paid session whose lost event names no usable user. */
  nobodysSale: Sale;
  /** A checkout Reckon credited from a delivery that this Stripe account never made. */
  unknownSessionId: string;
  /** What every user's wallet must end at, from the sales alone (independent of Reckon's arithmetic). */
  expectedPoints: Map<string, number>;
  /** Sells `count` more (one unit each, to new users) whose purchase webhooks are all lost; answers the lost event ids. */
  sellAndLose(count: number): Promise<string[]>;
}

const eventsOf = (account: FakeStripeAccount, paymentIntentId: string, types: readonly string[]) =>
  account.records("events").filter((event) => {
    const object = (event["data"] as { object: StripeRecord }).object;
    return types.includes(event["type"] as string) && (object["payment_intent"] === paymentIntentId || object.id === paymentIntentId);
  });

export function stripeDelivery(harness: WebhookHarness): SendDelivery {
  return async (payload, signatureHeader) => {
    const response = await harness.app.inject({ method: "POST", url: "/api/webhooks/stripe", headers: { "content-type": "application/json", "stripe-signature": signatureHeader }, payload });
    return response.statusCode;
  };
}

/**
 * The fake Stripe sells points during `day`, refunds and disputes some sales, and sends
 * the webhooks to Reckon, losing some (every kind Reckon reads), delivering one twice
 * and one after the refund that depends on it. A second Stripe account delivers one
 * sale the first never made. `n` sales (at least 9), each a different user.
 */
export async function plantStripeStory(harness: WebhookHarness, day: string, n: number): Promise<StripeStory> {
  let nowMs = Date.parse(`${day}T00:10:00.000Z`);
  const tick = () => (nowMs += 60_000);
  const account = new FakeStripeAccount({ now: () => new Date(nowMs) });
  const api = await startFakeStripeApi({ account });
  const webhooks = new FakeStripeWebhooks(account, { secret: harness.secrets.stripe, send: stripeDelivery(harness), now: () => harness.clock.now });
  const sales: PlantedSale[] = [];
  for (let index = 0; index < n; index += 1) {
    tick();
    const quantity = 1 + (index % 3);
    const paidMinor = 700 * quantity + index;
    const uid = `stripe_sync_${index}`;
    sales.push({ uid, quantity, paidMinor, refundsMinor: [], dispute: "none", sale: account.sell({ uid, priceId: STRIPE_PRICE, quantity, amountMinor: paidMinor, uidIn: index % 2 ? "metadata" : "client_reference_id" }) });
  }
  const refund = (index: number, amountMinor: number) => {
    tick();
    account.refund(sales[index]!.sale.paymentIntentId, amountMinor);
    sales[index]!.refundsMinor.push(amountMinor);
  };
  const dispute = (index: number, outcome: "open" | "won" | "lost") => {
    tick();
    const disputeId = account.dispute(sales[index]!.sale.paymentIntentId);
    if (outcome !== "open") account.closeDispute(disputeId, outcome);
    sales[index]!.dispute = outcome;
  };
  refund(1, 300); // its refund events are lost
  refund(2, sales[2]!.paidMinor); // delivered: a full refund
  dispute(3, "open"); // its dispute events are lost
  dispute(4, "won"); // the win (funds_reinstated, closed) is lost
  refund(5, 500); // delivered before the purchase it refunds
  dispute(6, "lost"); // delivered
  tick();
  const nobodysSale = account.sell({ uid: "not a valid uid!", priceId: STRIPE_PRICE, amountMinor: 700 });

  const pi = (index: number) => sales[index]!.sale.paymentIntentId;
  const lost = [
    ...eventsOf(account, pi(7), ["checkout.session.completed"]),
    ...eventsOf(account, pi(1), ["refund.created", "charge.refunded"]),
    ...eventsOf(account, pi(3), ["charge.dispute.created", "charge.dispute.funds_withdrawn"]),
    ...eventsOf(account, pi(4), ["charge.dispute.funds_reinstated", "charge.dispute.closed"]),
    ...eventsOf(account, nobodysSale.paymentIntentId, ["checkout.session.completed"]),
  ].map((event) => event.id);
  // Events Reckon stores and ignores are lost too; the sync must not list them.
  const lostIgnored = eventsOf(account, pi(8), ["payment_intent.succeeded", "charge.succeeded"]).map((event) => event.id);
  const twice = eventsOf(account, pi(0), ["checkout.session.completed"])[0]!.id;
  const late = eventsOf(account, pi(5), ["checkout.session.completed"])[0]!.id;
  webhooks.decide((event) => (lost.includes(event.id) || lostIgnored.includes(event.id) ? "drop" : event.id === twice ? "twice" : event.id === late ? "late" : "deliver") satisfies DeliveryFate);
  await webhooks.flush();

  const elsewhere = new FakeStripeAccount({ now: () => new Date(nowMs) });
  const unknown = elsewhere.sell({ uid: "stripe_sync_unknown", priceId: STRIPE_PRICE, amountMinor: 700 });
  const elsewhereWebhooks = new FakeStripeWebhooks(elsewhere, { secret: harness.secrets.stripe, send: stripeDelivery(harness), now: () => harness.clock.now });
  await elsewhereWebhooks.flush();

  const expectedPoints = new Map<string, number>();
  for (const planted of sales) {
    const points = POINTS_PER_UNIT * planted.quantity;
    const refunded = Math.min(planted.paidMinor, planted.refundsMinor.reduce((sum, amount) => sum + amount, 0));
    const afterRefunds = points - Math.floor((points * refunded) / planted.paidMinor);
    expectedPoints.set(planted.uid, planted.dispute === "open" || planted.dispute === "lost" ? 0 : afterRefunds);
  }
  expectedPoints.set("stripe_sync_unknown", POINTS_PER_UNIT);
  let more = 0;
  const sellAndLose = async (count: number) => {
    const sold = Array.from({ length: count }, () => {
      tick();
      const uid = `stripe_sync_more_${(more += 1)}`;
      expectedPoints.set(uid, POINTS_PER_UNIT);
      return account.sell({ uid, priceId: STRIPE_PRICE, amountMinor: 700 }).paymentIntentId;
    });
    const lostNow = sold.flatMap((paymentIntentId) => eventsOf(account, paymentIntentId, ["checkout.session.completed"]).map((event) => event.id));
    webhooks.decide((event) => (lostNow.includes(event.id) ? "drop" : "deliver"));
    await webhooks.flush();
    return lostNow;
  };
  return { api, webhooks, sales, lostEventIds: lost, nobodysSale, unknownSessionId: unknown.sessionId, expectedPoints, sellAndLose };
}

import { randomBytes } from "node:crypto";
import type { Config } from "../../src/config.js";
import { FakeStripeAccount } from "../../src/demo/fakeStripeAccount.js";
import { startFakeStripeApi } from "../../src/demo/fakeStripeApi.js";
import { FakeStripeWebhooks } from "../../src/demo/fakeStripeWebhooks.js";
import { STRIPE_EVENT_TYPES_READ } from "../../src/providers/stripe/readStripeDelivery.js";
import { verifyStripeSignature } from "../../src/providers/stripe/verifyStripeSignature.js";
import { pendingDelivery } from "../../src/webhooks/pendingDelivery.js";
import { PRICE_MINOR, type BenchShop, type Sent } from "./benchShop.js";

const PRICE = "price_bench_50pts";
const SUBSCRIBED: ReadonlySet<string> = new Set(STRIPE_EVENT_TYPES_READ);

/**
 * The fake Stripe account (src/demo/fakeStripeAccount.ts), its API and its webhook
 * sender. Reckon's endpoint subscribes to the event types it reads, so of a sale's
 * three events only `checkout.session.completed` is sent; a lost sale is that event lost.
 */
export async function stripeShop(clock: { now: Date }): Promise<BenchShop> {
  const sent: Sent[] = [];
  const secret = `whsec_${randomBytes(24).toString("base64url")}`;
  const account = new FakeStripeAccount({ now: () => clock.now });
  const api = await startFakeStripeApi({ account });
  const webhooks = new FakeStripeWebhooks(account, {
    secret,
    now: () => clock.now,
    send: async (payload, signatureHeader) => {
      sent.push({ rawBody: Buffer.from(payload), headers: { "stripe-signature": signatureHeader }, at: clock.now });
      return 200;
    },
  });
  let losing: string | null = null;
  webhooks.decide((event) => (!SUBSCRIBED.has(event["type"] as string) || (event["data"] as { object: { id: string } }).object.id === losing ? "drop" : "deliver"));
  return {
    provider: "stripe",
    env: { STRIPE_WEBHOOK_SECRET: secret, STRIPE_API_KEY: api.apiKey, STRIPE_API_URL: api.url },
    catalogueId: PRICE,
    async sell(uid, lose) {
      const sale = account.sell({ uid, priceId: PRICE, amountMinor: PRICE_MINOR });
      losing = lose ? sale.sessionId : null;
      const undelivered = await webhooks.flush();
      return lose ? undelivered.find((eventId) => account.find("events", eventId)!["type"] === "checkout.session.completed")! : null;
    },
    takeDeliveries(config: Config) {
      return sent.splice(0).map(({ rawBody, headers, at }) => {
        const check = verifyStripeSignature({ rawBody, header: headers["stripe-signature"], secret: config.providers.stripeWebhookSecret!, now: at });
        if (!check.ok) throw new Error(`the fake account's signature does not hold: ${check.failure}`);
        return pendingDelivery({ provider: "stripe", rawBody, headers: JSON.stringify(headers), receivedAt: at, reversalPolicy: config.webhooks.reversalPolicy });
      });
    },
    apiRequests: () => api.requests.length,
    close: () => api.close(),
  };
}

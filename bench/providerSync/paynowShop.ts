import { randomBytes } from "node:crypto";
import type { Config } from "../../src/config.js";
import { startFakePaynowApi } from "../../src/demo/fakePaynowApi.js";
import { FakePaynowStore } from "../../src/demo/fakePaynowStore.js";
import { verifyPaynowSignature } from "../../src/providers/paynow/verifyPaynowSignature.js";
import { pendingDelivery } from "../../src/webhooks/pendingDelivery.js";
import { PRICE_MINOR, type BenchShop, type Sent } from "./benchShop.js";

const PRODUCT = "458255405240287232";

/** The fake PayNow store (src/demo/fakePaynowStore.ts) and its Management API. */
export async function paynowShop(clock: { now: Date }): Promise<BenchShop> {
  const sent: Sent[] = [];
  const store = new FakePaynowStore({
    now: () => clock.now,
    // Received: stored with its group right after, as the webhook route acknowledges once its group commits.
    deliver: async (rawBody, headers) => {
      sent.push({ rawBody: Buffer.from(rawBody), headers, at: clock.now });
      return 200;
    },
  });
  const api = await startFakePaynowApi(store, `pnapi_${randomBytes(16).toString("hex")}`);
  return {
    provider: "paynow",
    env: { PAYNOW_WEBHOOK_SECRETS: store.secrets.join(","), PAYNOW_API_KEY: api.apiKey, PAYNOW_STORE_ID: store.storeId, PAYNOW_API_URL: api.url },
    catalogueId: PRODUCT,
    async sell(uid, lose) {
      if (lose) store.dropNext();
      const sold = await store.sell({ uid, productId: PRODUCT, quantity: 1, priceMinor: PRICE_MINOR });
      return lose ? sold.eventId : null;
    },
    takeDeliveries(config: Config) {
      return sent.splice(0).map(({ rawBody, headers, at }) => {
        const check = verifyPaynowSignature({ rawBody, signature: headers["paynow-signature"], timestamp: headers["paynow-timestamp"], secrets: config.providers.paynowWebhookSecrets, now: at });
        if (!check.ok) throw new Error(`the fake store's signature does not hold: ${check.failure}`);
        return pendingDelivery({ provider: "paynow", rawBody, headers: JSON.stringify(headers), receivedAt: at, reversalPolicy: config.webhooks.reversalPolicy });
      });
    },
    apiRequests: () => api.requests.length,
    close: () => api.close(),
  };
}

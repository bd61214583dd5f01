import type { Config } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import { unreachable } from "../unreachable.js";
import { paynowClient } from "./paynow/paynowClient.js";
import type { ProviderClient } from "./ProviderRecords.js";
import { createStripeClient } from "./stripe/stripeClient.js";

/** The API client of `provider` as configured, or null when it has no API key (its sync is off). */
export function providerClientFor(config: Config, provider: Provider): ProviderClient | null {
  switch (provider) {
    case "paynow": {
      const settings = config.providerSync.paynow;
      return settings ? paynowClient({ ...settings, retry: { timeoutMs: config.providerSync.requestTimeoutMs, attempts: config.providerSync.attempts } }) : null;
    }
    case "stripe": {
      const { stripeApiKey: apiKey, stripeApiUrl: apiUrl, requestTimeoutMs: timeoutMs } = config.providerSync;
      return apiKey ? createStripeClient({ apiKey, apiUrl, timeoutMs }) : null;
    }
  }
  return unreachable(provider, "provider");
}

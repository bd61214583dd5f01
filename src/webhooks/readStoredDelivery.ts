import type { Provider, ReadDelivery } from "../providers/PaymentEvent.js";
import { readPaynowDelivery } from "../providers/paynow/readPaynowDelivery.js";
import { readStripeDelivery } from "../providers/stripe/readStripeDelivery.js";

/** Reads a verified body with its provider's reader; the same call at ingest and at replay. */
export function readStoredDelivery(provider: Provider, rawBody: string): ReadDelivery {
  switch (provider) {
    case "paynow":
      return readPaynowDelivery(rawBody);
    case "stripe":
      return readStripeDelivery(rawBody);
    default: {
      const never: never = provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

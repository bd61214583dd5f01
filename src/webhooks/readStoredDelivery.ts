import { nulFreeDelivery } from "../providers/nulFreeDelivery.js";
import type { Provider, ReadDelivery } from "../providers/PaymentEvent.js";
import { readPaynowDelivery } from "../providers/paynow/readPaynowDelivery.js";
import { readStripeDelivery } from "../providers/stripe/readStripeDelivery.js";
import { unreachable } from "../unreachable.js";

/**
 * Reads a verified body, exactly as received, with its provider's reader; the same
 * call at ingest, at replay and at import. What it returns holds no NUL anywhere
 * (`nulFreeDelivery`), so everything it yields can be stored on either engine.
 */
export function readStoredDelivery(provider: Provider, rawBody: Uint8Array): ReadDelivery {
  return nulFreeDelivery(readWith(provider, rawBody), rawBody);
}

function readWith(provider: Provider, rawBody: Uint8Array): ReadDelivery {
  switch (provider) {
    case "paynow":
      return readPaynowDelivery(rawBody);
    case "stripe":
      return readStripeDelivery(rawBody);
  }
  return unreachable(provider, "provider");
}

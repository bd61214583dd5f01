import { createHmac } from "node:crypto";
import Stripe from "stripe";
import type { Provider } from "./operations.js";

export interface WebhookSecrets {
  paynow: string[];
  stripe: string;
}

const stripe = new Stripe("sk_test_proof_offline_signing_only");

/**
 * Headers for one delivery signed now, as each provider signs: PayNow with a base64
 * HMAC-SHA256 of "<ms>.<body>" under one of its per-event secrets, Stripe through the
 * official package's test-header helper.
 */
export function signDelivery(provider: Provider, body: string, secrets: WebhookSecrets, secretIndex: number): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (provider === "paynow") {
    const timestampMs = Date.now();
    const secret = secrets.paynow[secretIndex % secrets.paynow.length]!;
    headers["paynow-timestamp"] = String(timestampMs);
    headers["paynow-signature"] = createHmac("sha256", secret).update(`${timestampMs}.${body}`).digest("base64");
  } else {
    headers["stripe-signature"] = stripe.webhooks.generateTestHeaderString({ payload: body, secret: secrets.stripe, timestamp: Math.floor(Date.now() / 1000) });
  }
  return headers;
}

import type { Config } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import { verifyPaynowSignature } from "../providers/paynow/verifyPaynowSignature.js";
import type { SignatureCheck, SignatureFailure } from "../providers/SignatureCheck.js";
import { verifyStripeSignature } from "../providers/stripe/verifyStripeSignature.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookStatus } from "../storage/schema.js";
import { webhookAckSeconds, webhookDeliveriesTotal } from "./metrics.js";
import { deliveryWriterFor } from "./deliveryWriterFor.js";
import type { VerifiedDelivery } from "./pendingDelivery.js";
import { WriterUnavailableError } from "./WebhookWriterThread.js";
import { unreachable } from "../unreachable.js";

export interface Delivery {
  provider: Provider;
  rawBody: Buffer;
  /** Request headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

export type IngestOutcome =
  /** 200: stored durably (and applied); `duplicate` when the event id was stored before. */
  | { outcome: "stored"; eventId: string; status: WebhookStatus; duplicate: boolean }
  /** 401: the signature does not hold; nothing stored. */
  | { outcome: "signature_refused"; failure: SignatureFailure }
  /** 403: a live event at a test instance or a test event at a prod instance; nothing stored. */
  | { outcome: "livemode_mismatch"; livemode: boolean }
  /** 503: no secret is configured for this provider, so nothing can be verified. */
  | { outcome: "not_configured" }
  /** 503: the writer stopped before this delivery committed; nothing was acknowledged, the provider retries. */
  | { outcome: "not_stored" };

/** The headers worth keeping with the raw body: enough to verify the delivery again. */
const KEPT_HEADERS: Record<Provider, readonly string[]> = {
  paynow: ["paynow-signature", "paynow-timestamp", "content-type", "user-agent"],
  stripe: ["stripe-signature", "content-type", "user-agent"],
};

function header(headers: Delivery["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function verify(delivery: Delivery, config: Config, now: Date): SignatureCheck | null {
  switch (delivery.provider) {
    case "paynow": {
      const secrets = config.providers.paynowWebhookSecrets;
      if (secrets.length === 0) return null;
      return verifyPaynowSignature({
        rawBody: delivery.rawBody,
        signature: header(delivery.headers, "paynow-signature"),
        timestamp: header(delivery.headers, "paynow-timestamp"),
        secrets,
        now,
      });
    }
    case "stripe": {
      const secret = config.providers.stripeWebhookSecret;
      if (!secret) return null;
      return verifyStripeSignature({ rawBody: delivery.rawBody, header: header(delivery.headers, "stripe-signature"), secret, now });
    }
  }
  return unreachable(delivery.provider, "provider");
}

/**
 * Verifies a delivery on its raw bytes, stores it durably, applies it, and says how to
 * answer. A signed body that cannot be read is stored as failed and still stored:
 * the provider must not retry it forever, and an operator can replay it. The body is
 * read by the writer (`writeVerified`), on the writer thread where there is one.
 */
export async function ingestDelivery(db: Db, config: Config, delivery: Delivery, now: Date): Promise<IngestOutcome> {
  const startedAt = performance.now();
  const outcome = await ingest(db, config, delivery, now);
  const label = outcome.outcome === "stored" ? (outcome.duplicate ? "duplicate" : outcome.status) : outcome.outcome === "signature_refused" ? outcome.failure : outcome.outcome;
  webhookDeliveriesTotal.inc({ provider: delivery.provider, outcome: label });
  if (outcome.outcome === "stored") webhookAckSeconds.observe({ provider: delivery.provider }, (performance.now() - startedAt) / 1000);
  return outcome;
}

async function ingest(db: Db, config: Config, delivery: Delivery, now: Date): Promise<IngestOutcome> {
  const check = verify(delivery, config, now);
  if (check === null) return { outcome: "not_configured" };
  if (!check.ok) return { outcome: "signature_refused", failure: check.failure };

  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS[delivery.provider]) {
    const value = header(delivery.headers, name);
    if (value !== undefined) kept[name] = value;
  }
  const verified: VerifiedDelivery = {
    provider: delivery.provider,
    rawBody: delivery.rawBody,
    headers: JSON.stringify(kept),
    receivedAt: now,
    reversalPolicy: config.webhooks.reversalPolicy,
    environment: config.environment,
  };
  try {
    return await deliveryWriterFor(db).submit(verified);
  } catch (error) {
    if (error instanceof WriterUnavailableError) return { outcome: "not_stored" };
    throw error;
  }
}

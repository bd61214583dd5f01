import { createHmac, randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import Stripe from "stripe";
import { loadConfig, type Config } from "../../src/config.js";
import { prodEnv } from "./prodEnv.js";
import { buildApp } from "../../src/http/buildApp.js";
import { signPaynow } from "../../src/providers/paynow/verifyPaynowSignature.js";
import type { Db } from "../../src/storage/openDatabase.js";

/**
 * Deliveries as the providers send them, signed with secrets made at test time:
 * PayNow with a real HMAC, Stripe with the official package's test-header helper.
 */
export const NOW = new Date("2026-01-01T00:00:10.000Z");

let sequence = 0;
/** A fresh flake-like id, longer than a JS number can hold, so it only survives as a string. */
export function flakeId(): string {
  sequence++;
  return `49821337845${String(Date.now() % 1e6).padStart(6, "0")}${String(sequence).padStart(4, "0")}`;
}

export interface WebhookSecrets {
  paynow: string[];
  stripe: string;
}

export function makeSecrets(): WebhookSecrets {
  return {
    paynow: [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")],
    stripe: `whsec_${randomBytes(24).toString("base64url")}`,
  };
}

export function webhookConfig(secrets: WebhookSecrets, extra: Record<string, string> = {}): Config {
  const webhookSecrets = { PAYNOW_WEBHOOK_SECRETS: secrets.paynow.join(","), STRIPE_WEBHOOK_SECRET: secrets.stripe };
  // A prod process takes its secrets only from mounted files.
  if (extra.ENVIRONMENT === "prod") return loadConfig(prodEnv(webhookSecrets, extra));
  return loadConfig({ ...webhookSecrets, ...extra });
}

export interface WebhookHarness {
  app: FastifyInstance;
  secrets: WebhookSecrets;
  clock: { now: Date };
}

export async function webhookHarness(db: Db, extra: Record<string, string> = {}): Promise<WebhookHarness> {
  const secrets = makeSecrets();
  const clock = { now: NOW };
  const app = await buildApp({ db, config: webhookConfig(secrets, extra), now: () => clock.now });
  return { app, secrets, clock };
}

export function paynowOrder(input: { orderId: string; uid: string | null; lines: { productId: string; quantity: number }[]; totalMinor?: number }) {
  return {
    event_type: "ON_ORDER_COMPLETED",
    event_id: flakeId(),
    body: {
      id: input.orderId,
      store_id: "321641745957789696",
      customer: { id: "498201112233445566", name: "Sam" },
      checkout_id: "498213300000000000",
      checkout: { id: "498213300000000000", metadata: input.uid === null ? {} : { uid: input.uid }, lines: [] },
      currency: "USD",
      total_amount: input.totalMinor ?? 500,
      status: "completed",
      completed_at: "2026-01-01T00:00:05Z",
      lines: input.lines.map((line) => ({
        id: flakeId(),
        product_id: line.productId,
        product: { id: line.productId, name: "Points", price: 500, metadata: {} },
        price: 500,
        quantity: line.quantity,
        total_amount: 500 * line.quantity,
      })),
    },
  };
}

export function paynowRefund(input: { orderId: string; refundId?: string; refundedMinor: number; status?: string; amountMinor?: number }) {
  return {
    event_type: "ON_REFUND",
    event_id: flakeId(),
    body: {
      id: input.refundId ?? flakeId(),
      order_id: input.orderId,
      payment_id: flakeId(),
      currency: "USD",
      amount: input.amountMinor ?? 500,
      store_refund_amount: input.refundedMinor,
      status: input.status ?? "completed",
      completed_at: "2026-01-01T00:00:06Z",
    },
  };
}

export function paynowChargeback(input: { orderId: string; paymentId: string; closed?: string }) {
  return {
    event_type: input.closed ? "ON_CHARGEBACK_CLOSED" : "ON_CHARGEBACK",
    event_id: flakeId(),
    body: {
      id: input.paymentId,
      order_id: input.orderId,
      amount: 500,
      status: "completed",
      chargeback_status: input.closed ?? "open",
      chargeback_at: "2026-01-01T00:00:07Z",
    },
  };
}

export interface PaynowSendOptions {
  secret?: string;
  timestampMs?: number;
  signature?: string | null;
  timestamp?: string | null;
}

/** POSTs a PayNow delivery; `payload` may be an object (sent as JSON) or exact bytes. */
export function sendPaynow(harness: WebhookHarness, payload: unknown, options: PaynowSendOptions = {}) {
  const body = typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const timestampMs = options.timestampMs ?? harness.clock.now.getTime();
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = options.signature === undefined ? signPaynow(options.secret ?? harness.secrets.paynow[1]!, timestampMs, body) : options.signature;
  const timestamp = options.timestamp === undefined ? String(timestampMs) : options.timestamp;
  if (signature !== null) headers["paynow-signature"] = signature;
  if (timestamp !== null) headers["paynow-timestamp"] = timestamp;
  return harness.app.inject({ method: "POST", url: "/api/webhooks/paynow", headers, payload: body });
}

const stripeClient = new Stripe("sk_test_offline_signing_only");

export function stripeEvent(type: string, object: Record<string, unknown>, livemode = false) {
  return { id: `evt_${randomBytes(12).toString("hex")}`, object: "event", type, livemode, created: 1767225600, data: { object } };
}

/**
 * POSTs a Stripe delivery signed by `stripe.webhooks.generateTestHeaderString`; exact
 * bytes (which that helper cannot take) are signed the same way by hand.
 */
export function sendStripe(harness: WebhookHarness, event: unknown, options: { secret?: string; timestampSeconds?: number; header?: string | null } = {}) {
  const payload = typeof event === "string" || Buffer.isBuffer(event) ? event : JSON.stringify(event);
  const secret = options.secret ?? harness.secrets.stripe;
  const timestamp = options.timestampSeconds ?? Math.floor(harness.clock.now.getTime() / 1000);
  const header =
    options.header !== undefined
      ? options.header
      : Buffer.isBuffer(payload)
        ? `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.`).update(payload).digest("hex")}`
        : stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header !== null) headers["stripe-signature"] = header;
  return harness.app.inject({ method: "POST", url: "/api/webhooks/stripe", headers, payload });
}

export async function walletPoints(db: Db, uid: string): Promise<number | null> {
  const row = await db.kysely.selectFrom("wallets").select("points").where("uid", "=", uid).executeTakeFirst();
  return row?.points ?? null;
}

export async function eventRow(db: Db, provider: string, eventId: string) {
  return db.kysely
    .selectFrom("webhook_events")
    .selectAll()
    .where("provider", "=", provider)
    .where("event_id", "=", eventId)
    .executeTakeFirst();
}

/** Puts one product in the catalogue through the audited writer. */
export async function catalogue(db: Db, provider: string, productId: string, pointsPerUnit: number): Promise<void> {
  const { setProduct } = await import("../../src/catalogue/setProduct.js");
  const { withTransaction } = await import("../../src/storage/withTransaction.js");
  await withTransaction(db, (trx) => setProduct(trx, { provider, productId, pointsPerUnit, actor: "test", now: NOW }));
}

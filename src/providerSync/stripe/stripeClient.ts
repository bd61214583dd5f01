import Stripe from "stripe";
import { STRIPE_EVENT_TYPES_READ } from "../../providers/stripe/readStripeDelivery.js";
import type { MalformedRecord, PageResult, ProviderClient, ProviderReadFailure, ProviderRecord, PurchaseRecord, SyncCursor, SyncWindow } from "../ProviderRecords.js";
import { callStripe, DEFAULT_RATE_LIMIT_BACKOFF, type RateLimitBackoff } from "./callStripe.js";
import { chargebackRecord, deliveryRecord, purchaseRecord, refundRecord } from "./stripeRecords.js";

export interface StripeClientOptions {
  apiKey: string;
  /** Where the API is: `https://api.stripe.com` unless given (tests and the demo give the fake's `http://127.0.0.1:<port>`). */
  apiUrl?: string;
  /** Per request; a request that outlives it is retried by the SDK like a 5xx. */
  timeoutMs?: number;
  /** The SDK's own retries of 5xx answers, timeouts and broken connections. */
  maxNetworkRetries?: number;
  rateLimit?: RateLimitBackoff;
  /** Objects per list request, 1–100. */
  pageSize?: number;
}

/**
 * The lists a walk reads, in order: undelivered events first (the interface wants every
 * delivery before the records they may repair), then completed checkout sessions,
 * refunds and disputes created in the window.
 */
const PHASES = ["events", "checkout_sessions", "refunds", "disputes"] as const;
type Phase = (typeof PHASES)[number];
type Cursor = { phase: Phase; after: string | null };

const toRecord: Record<Phase, (item: unknown, position: string) => ProviderRecord | null> = {
  events: deliveryRecord,
  checkout_sessions: purchaseRecord,
  refunds: refundRecord,
  disputes: chargebackRecord,
};

function readCursor(cursor: SyncCursor | null): Cursor | null {
  if (cursor === null) return { phase: "events", after: null };
  try {
    const value = JSON.parse(cursor) as Partial<Cursor>;
    if (!PHASES.includes(value.phase as Phase) || !(value.after === null || typeof value.after === "string")) return null;
    return { phase: value.phase as Phase, after: value.after };
  } catch {
    return null;
  }
}

/** The SDK's `host`/`port`/`protocol` for an API address (the `/v1/` prefix stays the SDK's). */
function apiLocation(apiUrl: string): { host: string; port: number; protocol: "http" | "https" } {
  const url = new URL(apiUrl);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === "http" ? 80 : 443, protocol };
}

const permanent = (code: ProviderReadFailure["code"], message: string): { ok: false; failure: ProviderReadFailure } => ({ ok: false, failure: { code, retryable: false, message } });

/**
 * Stripe's own records through the official `stripe` package: undelivered events of the
 * types Reckon reads (`delivery_success: false`), completed checkout sessions, refunds
 * and disputes, one list page per `readPage`, mapped to the provider-neutral records.
 */
export function createStripeClient(options: StripeClientOptions): ProviderClient {
  const stripe = new Stripe(options.apiKey, {
    ...(options.apiUrl ? apiLocation(options.apiUrl) : {}),
    timeout: options.timeoutMs ?? 10_000,
    maxNetworkRetries: options.maxNetworkRetries ?? 3,
    telemetry: false,
  });
  const backoff = options.rateLimit ?? DEFAULT_RATE_LIMIT_BACKOFF;
  const limit = options.pageSize ?? 100;

  /** One page of a list, untyped: each item is checked by the record mappers, not trusted. */
  function list(phase: Phase, params: { created: { gte: number; lt: number }; limit: number; starting_after?: string }): Promise<unknown> {
    switch (phase) {
      case "events":
        return stripe.events.list({ ...params, types: [...STRIPE_EVENT_TYPES_READ], delivery_success: false });
      case "checkout_sessions":
        return stripe.checkout.sessions.list({ ...params, status: "complete" });
      case "refunds":
        return stripe.refunds.list(params);
      case "disputes":
        return stripe.disputes.list(params);
    }
  }

  async function readPage(window: SyncWindow, cursor: SyncCursor | null): Promise<PageResult> {
    const at = readCursor(cursor);
    if (!at) return permanent("bad_request", "the run's cursor is not a Stripe sync cursor");
    const created = { gte: Math.floor(Date.parse(window.from) / 1000), lt: Math.ceil(Date.parse(window.to) / 1000) };
    const call = await callStripe(() => list(at.phase, { created, limit, ...(at.after ? { starting_after: at.after } : {}) }), backoff);
    if (!call.ok) return { ok: false, failure: call.failure };
    const page = call.value as { data?: unknown; has_more?: unknown };
    if (!Array.isArray(page.data) || typeof page.has_more !== "boolean") return permanent("malformed_response", `${at.phase}: the answer is not a Stripe list`);
    const records: ProviderRecord[] = [];
    // Stripe lists newest first; a page's objects are yielded oldest first, as they happened.
    [...page.data].reverse().forEach((item: unknown, index) => {
      const record = toRecord[at.phase](item, `${at.phase} after ${at.after ?? "start"} item ${index}`);
      if (record) records.push(record);
    });
    const last = page.data.at(-1) as { id?: unknown } | undefined;
    if (page.has_more && typeof last?.id !== "string") return permanent("malformed_response", `${at.phase}: a page with more to come whose last object has no id`);
    const following = PHASES[PHASES.indexOf(at.phase) + 1];
    const next: Cursor | null = page.has_more ? { phase: at.phase, after: last!.id as string } : following ? { phase: following, after: null } : null;
    return { ok: true, records, next: next && JSON.stringify(next) };
  }

  async function readPurchase(purchaseRef: string): Promise<{ ok: true; purchase: PurchaseRecord | null } | { ok: false; failure: ProviderReadFailure }> {
    const checkout = /^stripe:checkout:(.+)$/.exec(purchaseRef);
    const paymentIntent = /^stripe:payment_intent:(.+)$/.exec(purchaseRef);
    let session: unknown;
    if (checkout) {
      const call = await callStripe(() => stripe.checkout.sessions.retrieve(checkout[1]!), backoff);
      if (!call.ok) return call.statusCode === 404 ? { ok: true, purchase: null } : { ok: false, failure: call.failure };
      session = call.value;
    } else if (paymentIntent) {
      const call = await callStripe(() => stripe.checkout.sessions.list({ payment_intent: paymentIntent[1]!, limit: 1 }), backoff);
      if (!call.ok) return { ok: false, failure: call.failure };
      session = (call.value as { data?: unknown[] }).data?.[0] ?? null;
    } else {
      return permanent("bad_request", `not a Stripe purchase reference: ${purchaseRef.slice(0, 100)}`);
    }
    if (session === null) return { ok: true, purchase: null };
    const record: PurchaseRecord | MalformedRecord = purchaseRecord(session, purchaseRef);
    if (record.kind === "malformed") return permanent("malformed_response", `${purchaseRef}: ${record.detail}`);
    return { ok: true, purchase: record };
  }

  return { provider: "stripe", readPage, readPurchase };
}

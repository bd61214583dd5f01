import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeStripeAccount, type StripeRecord } from "../../demo/fakeStripeAccount.js";
import { startFakeStripeApi, type FakeStripeApi } from "../../demo/fakeStripeApi.js";
import { FakeStripeWebhooks } from "../../demo/fakeStripeWebhooks.js";
import { readStripeDelivery } from "../../providers/stripe/readStripeDelivery.js";
import type { PageResult, ProviderClient, ProviderRecord, SyncWindow } from "../ProviderRecords.js";
import { createStripeClient, type StripeClientOptions } from "./stripeClient.js";

const DAY = Date.UTC(2026, 2, 10);
const window: SyncWindow = { from: new Date(DAY).toISOString(), to: new Date(DAY + 86_400_000).toISOString() };

async function walk(client: ProviderClient, pages: PageResult[] = []): Promise<ProviderRecord[]> {
  const records: ProviderRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.readPage(window, cursor);
    pages.push(page);
    if (!page.ok) throw new Error(`read failed: ${page.failure.message}`);
    records.push(...page.records);
    cursor = page.next;
  } while (cursor !== null);
  return records;
}

/** What the webhook path reads from one of the fake's events: the independent model of every record. */
const readEvent = (event: StripeRecord) => readStripeDelivery(new TextEncoder().encode(JSON.stringify(event))).event;

describe("the Stripe client reads Stripe's own records through the official package", () => {
  let api: FakeStripeApi;
  let nowMs = DAY - 3_600_000;
  let client: (options?: Partial<StripeClientOptions>) => ProviderClient;
  let undelivered: string[];

  beforeAll(async () => {
    const account = new FakeStripeAccount({ now: () => new Date(nowMs) });
    api = await startFakeStripeApi({ account });
    client = (options = {}) =>
      createStripeClient({ apiKey: api.apiKey, apiUrl: api.url, pageSize: 7, maxNetworkRetries: 2, timeoutMs: 500, rateLimit: { retries: 3, baseDelayMs: 10, maxDelayMs: 40 }, ...options });
    const webhooks = new FakeStripeWebhooks(account, { secret: `whsec_${randomBytes(16).toString("hex")}`, send: async () => 200 });
    account.sell({ uid: "before_window", priceId: "price_a", amountMinor: 100 }); // an hour before the window
    for (let index = 0; index < 12; index += 1) {
      nowMs = DAY + index * 600_000;
      const sale = account.sell({ uid: `user_${index}`, priceId: "price_a", quantity: 1 + (index % 3), amountMinor: 500 * (1 + (index % 3)), uidIn: index % 2 ? "metadata" : "client_reference_id" });
      if (index % 4 === 1) account.refund(sale.paymentIntentId, 250);
      if (index % 4 === 2) account.dispute(sale.paymentIntentId);
    }
    account.closeDispute(account.records("disputes")[0]!.id, "won");
    nowMs = DAY + 86_400_000; // the next day: outside the window
    account.sell({ uid: "after_window", priceId: "price_a", amountMinor: 100 });
    webhooks.decide((event) => (event.id.charCodeAt(event.id.length - 1) % 3 === 0 ? "drop" : "deliver"));
    undelivered = await webhooks.flush();
  });
  afterAll(() => api.close());

  it("walks the window page by page: undelivered events first, then every session, refund and dispute, with the webhook path's keys", async () => {
    const records = await walk(client());
    const inWindow = (record: StripeRecord) => record.created * 1000 >= DAY && record.created * 1000 < DAY + 86_400_000;
    const events = api.account.records("events").filter(inWindow);
    const readTypes = new Set(events.filter((event) => !("reason" in readEvent(event) && (readEvent(event) as { reason: string }).reason === "unhandled_event_type")).map((event) => event["type"]));

    const deliveries = records.filter((record) => record.kind === "delivery");
    expect(deliveries.length).toBeGreaterThan(0);
    expect(records.slice(0, deliveries.length)).toEqual(deliveries);
    expect(deliveries.map((record) => record.eventId).sort()).toEqual(
      events.filter((event) => undelivered.includes(event.id) && readTypes.has(event["type"])).map((event) => event.id).sort(),
    );
    // Undelivered events Reckon does not read (payment_intent.succeeded, charge.succeeded) are not listed.
    expect(undelivered.filter((id) => events.some((event) => event.id === id)).length).toBeGreaterThan(deliveries.length);
    for (const delivery of deliveries) {
      expect(JSON.parse(new TextDecoder().decode(delivery.payload))).toEqual(api.account.find("events", delivery.eventId));
    }

    const purchases = records.flatMap((record) => (record.kind === "purchase" ? [record] : []));
    const completed = events.filter((event) => event["type"] === "checkout.session.completed");
    expect(purchases).toHaveLength(12);
    for (const event of completed) {
      const { kind: _kind, uid, ...credit } = readEvent(event) as Extract<ReturnType<typeof readEvent>, { kind: "credit" }>;
      const purchase = purchases.find((record) => record.credit.purchaseKey === credit.purchaseKey);
      expect(purchase).toMatchObject({ status: "paid", uid, credit, currency: "USD" });
    }

    const refundKeys = events.flatMap((event) => (event["type"] === "refund.created" ? (readEvent(event) as { refunds: { refundKey: string; refundedMinor: number }[] }).refunds : []));
    expect(records.filter((record) => record.kind === "refund").map((record) => ({ refundKey: record.refundKey, refundedMinor: record.refundedMinor })).sort((a, b) => a.refundKey.localeCompare(b.refundKey))).toEqual(
      refundKeys.sort((a, b) => a.refundKey.localeCompare(b.refundKey)),
    );

    const chargebacks = records.flatMap((record) => (record.kind === "chargeback" ? [record] : []));
    expect(chargebacks.map((record) => record.status).sort()).toEqual(["open", "open", "won"]);
    for (const event of events.filter((candidate) => candidate["type"] === "charge.dispute.funds_reinstated")) {
      const meaning = readEvent(event) as { reversalKey: string; reinstatementKey: string; purchaseRef: string };
      expect(chargebacks.find((record) => record.status === "won")).toMatchObject({ reversalKey: meaning.reversalKey, reinstatementKey: meaning.reinstatementKey, purchaseRef: meaning.purchaseRef });
    }
    expect(records.some((record) => record.kind === "malformed")).toBe(false);
  });

  it("looks a purchase up by its checkout or payment-intent reference; one Stripe does not know is null", async () => {
    const session = api.account.records("checkout/sessions")[3]!;
    const byCheckout = await client().readPurchase(`stripe:checkout:${session.id}`);
    const byIntent = await client().readPurchase(`stripe:payment_intent:${session["payment_intent"] as string}`);
    expect(byCheckout).toMatchObject({ ok: true, purchase: { providerId: session.id, status: "paid" } });
    expect(byIntent).toEqual(byCheckout);
    expect(await client().readPurchase("stripe:checkout:cs_test_never_sold")).toEqual({ ok: true, purchase: null });
    expect(await client().readPurchase("stripe:payment_intent:pi_never_sold")).toEqual({ ok: true, purchase: null });
  });

  it("retries 429s with its own backoff and 500s and timeouts through the SDK, then reads the same records", async () => {
    const clean = await walk(client());
    api.fail({ fault: { kind: "status", status: 429 }, times: 2, path: "/v1/refunds" });
    api.fail({ fault: { kind: "status", status: 500 }, times: 1, path: "/v1/events" });
    api.fail({ fault: { kind: "slow", delayMs: 3_000 }, times: 1, path: "/v1/checkout/sessions" });
    const stripped = (records: ProviderRecord[]) => records.map((record) => ("payload" in record ? { ...record, payload: [...record.payload] } : record));
    expect(stripped(await walk(client()))).toEqual(stripped(clean));
  });

  it("gives up with a retryable failure the run can resume from, and a refused key with a permanent one", async () => {
    api.fail({ fault: { kind: "status", status: 503 }, times: Infinity, path: "/v1/disputes" });
    let cursor: string | null = null;
    let page: PageResult;
    do {
      page = await client({ maxNetworkRetries: 1 }).readPage(window, cursor);
      if (page.ok) cursor = page.next;
    } while (page.ok);
    expect(page.failure).toMatchObject({ code: "server_error", retryable: true, status: 503 });
    expect(JSON.parse(cursor!)).toEqual({ phase: "disputes", after: null });
    api.clearFaults();
    const resumed = await client().readPage(window, cursor);
    expect(resumed.ok && resumed.records.every((record) => record.kind === "chargeback")).toBe(true);

    api.fail({ fault: { kind: "status", status: 429 }, times: Infinity });
    expect(await client({ rateLimit: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } }).readPage(window, null)).toMatchObject({ ok: false, failure: { code: "rate_limited", retryable: true } });
    api.clearFaults();
    const refused = await client({ apiKey: `sk_test_${randomBytes(16).toString("hex")}` }).readPage(window, null);
    expect(refused).toMatchObject({ ok: false, failure: { code: "unauthorized", retryable: false, status: 401 } });
    expect(JSON.stringify(refused)).not.toContain(api.apiKey);
  });

  it("a malformed page becomes malformed records, never purchases, refunds or deliveries", async () => {
    for (const path of ["/v1/events", "/v1/checkout/sessions", "/v1/refunds", "/v1/disputes"]) api.fail({ fault: { kind: "malformed" }, times: Infinity, path });
    try {
      const records = await walk(client());
      expect(records.length).toBeGreaterThan(0);
      expect(new Set(records.map((record) => record.kind))).toEqual(new Set(["malformed"]));
      expect(new Set(records.map((record) => (record.kind === "malformed" ? record.source : "")))).toEqual(new Set(["events", "checkout_sessions", "refunds", "disputes"]));
    } finally {
      api.clearFaults();
    }
  });
});

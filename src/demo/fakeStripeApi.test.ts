import { randomBytes } from "node:crypto";
import fc from "fast-check";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeStripeAccount, type StripeRecord } from "./fakeStripeAccount.js";
import { startFakeStripeApi, type FakeStripeApi } from "./fakeStripeApi.js";
import { FakeStripeWebhooks } from "./fakeStripeWebhooks.js";

const DAY_START = Date.UTC(2026, 0, 1) / 1000;

/** The official SDK pointed at the fake. */
const sdk = (api: FakeStripeApi, options: { key?: string; maxNetworkRetries?: number; timeout?: number } = {}) =>
  new Stripe(options.key ?? api.apiKey, {
    host: api.host,
    port: api.port,
    protocol: "http",
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    ...(options.timeout ? { timeout: options.timeout } : {}),
  });

async function all<T>(list: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of list) items.push(item);
  return items;
}

describe("the fake Stripe API answers the official stripe package", () => {
  let api: FakeStripeApi;
  let clockSeconds = DAY_START;
  let stripe: Stripe;

  beforeAll(async () => {
    const account = new FakeStripeAccount({ now: () => new Date(clockSeconds * 1000) });
    api = await startFakeStripeApi({ account });
    stripe = sdk(api);
    // 30 sales a minute apart, every third refunded, every fifth disputed and the first dispute won.
    for (let index = 0; index < 30; index += 1) {
      clockSeconds = DAY_START + index * 60;
      const sale = account.sell({ uid: `user_${index}`, priceId: "price_100pts", amountMinor: 1000 + index, uidIn: index % 2 ? "metadata" : "client_reference_id" });
      if (index % 3 === 0) account.refund(sale.paymentIntentId, 400);
      if (index % 5 === 0) account.dispute(sale.paymentIntentId);
    }
    account.closeDispute(account.records("disputes")[0]!.id, "won");
  });
  afterAll(() => api.close());

  it("auto-paginates every list newest first, whatever the page size and created window (model: filter the recorded objects)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("events", "refunds", "disputes", "checkout/sessions" as const),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: -60, max: 30 * 60 }),
        fc.integer({ min: 0, max: 31 * 60 }),
        async (list, limit, fromOffset, length) => {
          const created = { gte: DAY_START + fromOffset, lt: DAY_START + fromOffset + length };
          const resource = list === "checkout/sessions" ? stripe.checkout.sessions : stripe[list];
          const listed = await all<{ id: string }>(resource.list({ created, limit }));
          const expected = api.account
            .records(list)
            .filter((record) => record.created >= created.gte && record.created < created.lt)
            .map((record) => record.id)
            .reverse();
          expect(listed.map((item) => item.id)).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("pages backwards with ending_before, and refuses a cursor it never issued", async () => {
    const newestFirst = [...api.account.records("events")].reverse().map((event) => event.id);
    const page = await stripe.events.list({ ending_before: newestFirst[50]!, limit: 20 });
    expect(page.data.map((event) => event.id)).toEqual(newestFirst.slice(30, 50));
    expect(page.has_more).toBe(true);
    expect(page.object).toBe("list");
    expect(page.url).toBe("/v1/events");
    await expect(stripe.events.list({ starting_after: "evt_never_issued" })).rejects.toMatchObject({ type: "StripeInvalidRequestError", code: "resource_missing" });
  });

  it("filters events by types[], by a type wildcard, and never by both", async () => {
    const types = ["charge.refunded", "charge.dispute.closed"];
    const listed = await all(stripe.events.list({ types, limit: 7 }));
    expect(listed.map((event) => event.id).sort()).toEqual(api.account.records("events").filter((event) => types.includes(event["type"] as string)).map((event) => event.id).sort());
    const disputes = await all(stripe.events.list({ type: "charge.dispute.*" }));
    expect(new Set(disputes.map((event) => event.type))).toEqual(new Set(["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated", "charge.dispute.closed"]));
    await expect(stripe.events.list({ type: "charge.refunded", types })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it("lists completed sessions with their user id, price and amount, and retrieves one by id", async () => {
    const sessions = await all(stripe.checkout.sessions.list({ status: "complete", limit: 100 }));
    expect(sessions).toHaveLength(30);
    const first = sessions.at(-1)!;
    expect(first).toMatchObject({ object: "checkout.session", client_reference_id: "user_0", payment_status: "paid", amount_total: 1000, metadata: { price_id: "price_100pts", quantity: "1" } });
    expect(sessions.at(-2)!).toMatchObject({ client_reference_id: null, metadata: { uid: "user_1" } });
    expect((await stripe.checkout.sessions.retrieve(first.id)).id).toBe(first.id);
    expect(await all(stripe.checkout.sessions.list({ status: "expired" }))).toEqual([]);
    await expect(stripe.checkout.sessions.retrieve("cs_test_unknown")).rejects.toMatchObject({ type: "StripeInvalidRequestError", statusCode: 404, code: "resource_missing" });
  });

  it("refuses a missing or wrong key with StripeAuthenticationError, and a bad limit or unknown parameter with StripeInvalidRequestError", async () => {
    const wrongKey = `sk_test_${randomBytes(16).toString("hex")}`;
    await expect(sdk(api, { key: wrongKey }).events.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await expect(stripe.events.list({ limit: 101 })).rejects.toMatchObject({ type: "StripeInvalidRequestError", param: "limit" });
    await expect(stripe.refunds.list({ status: "succeeded" } as never)).rejects.toMatchObject({ type: "StripeInvalidRequestError", code: "parameter_unknown" });
  });

  it("maps 429 to StripeRateLimitError and 500 to StripeAPIError when retries are off", async () => {
    api.fail({ fault: { kind: "status", status: 429 }, times: 1 });
    await expect(stripe.events.list()).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    api.fail({ fault: { kind: "status", status: 500 }, times: 1 });
    await expect(stripe.events.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
  });

  it("the SDK's own maxNetworkRetries rides out 500s and an answer slower than its timeout", async () => {
    const before = api.requests.length;
    api.fail({ fault: { kind: "status", status: 500 }, times: 1, path: "/v1/disputes" });
    api.fail({ fault: { kind: "slow", delayMs: 5_000 }, times: 1, path: "/v1/disputes" });
    const disputes = await sdk(api, { maxNetworkRetries: 2, timeout: 300 }).disputes.list();
    expect(disputes.data.map((dispute) => dispute.id)).toEqual([...api.account.records("disputes")].reverse().map((dispute) => dispute.id));
    expect(api.requests.slice(before).map((request) => request.status)).toEqual([500, 200]);
    // The timed-out request is recorded only when its late answer finds the client gone.
  });

  it("gives up with StripeConnectionError when every answer is slower than the timeout", async () => {
    api.fail({ fault: { kind: "slow", delayMs: 5_000 }, times: Infinity, path: "/v1/refunds" });
    await expect(sdk(api, { timeout: 100 }).refunds.list()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
    api.clearFaults();
  });

  it("answers a malformed page on request: objects keep their id and lose their fields", async () => {
    api.fail({ fault: { kind: "malformed" }, times: 1 });
    const page = await stripe.refunds.list({ limit: 3 });
    expect(page.data).toHaveLength(3);
    for (const refund of page.data) expect(refund).toEqual({ id: expect.stringMatching(/^re_/), object: "refund", created: "malformed" });
  });
});

describe("the fake's webhooks are signed, and can be lost, doubled or reordered", () => {
  it("delivers what Stripe's own verifier accepts; dropped deliveries stay listed as delivery_success=false", async () => {
    const api = await startFakeStripeApi();
    try {
      const secret = `whsec_${randomBytes(24).toString("base64")}`;
      const received: { id: string; type: string }[] = [];
      const receiver = new Stripe(api.apiKey);
      const webhooks = new FakeStripeWebhooks(api.account, {
        secret,
        send: async (payload, header) => {
          const event = receiver.webhooks.constructEvent(payload, header, secret);
          received.push({ id: event.id, type: event.type });
          return 200;
        },
      });
      const kept = api.account.sell({ uid: "user_kept", priceId: "price_100pts", amountMinor: 500 });
      const lost = api.account.sell({ uid: "user_lost", priceId: "price_100pts", amountMinor: 500 });
      api.account.refund(kept.paymentIntentId, 500);
      const fates: Record<string, "drop" | "twice" | "late"> = {};
      for (const event of api.account.records("events")) {
        const object = (event["data"] as { object: StripeRecord }).object;
        if (object["payment_intent"] === lost.paymentIntentId || object.id === lost.paymentIntentId) fates[event.id] = "drop";
        else if (event["type"] === "refund.created") fates[event.id] = "twice";
        else if (event["type"] === "checkout.session.completed") fates[event.id] = "late";
      }
      webhooks.decide((event) => fates[event.id] ?? "deliver");

      const undelivered = await webhooks.flush();

      const byType = (id: string) => api.account.find("events", id)!["type"];
      expect(undelivered.sort()).toEqual(Object.keys(fates).filter((id) => fates[id] === "drop").sort());
      expect(received.filter((event) => event.type === "refund.created")).toHaveLength(2);
      expect(received.at(-1)).toEqual({ id: Object.keys(fates).find((id) => fates[id] === "late" && byType(id) === "checkout.session.completed"), type: "checkout.session.completed" });
      const stripe = sdk(api);
      const failed = await all(stripe.events.list({ delivery_success: false }));
      expect(failed.map((event) => event.id).sort()).toEqual(undelivered.sort());
      expect(failed.every((event) => event.pending_webhooks === 1)).toBe(true);

      expect(await webhooks.redeliver(undelivered[0]!)).toBe(200);
      expect((await all(stripe.events.list({ delivery_success: false }))).map((event) => event.id)).not.toContain(undelivered[0]);
    } finally {
      await api.close();
    }
  });
});

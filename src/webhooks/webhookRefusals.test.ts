import { expect, it } from "vitest";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, flakeId, paynowOrder, sendPaynow, sendStripe, stripeEvent } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { createHmac, randomBytes } from "node:crypto";
import { signPaynow } from "../providers/paynow/verifyPaynowSignature.js";

const PRODUCT = "458255405240287299";

describeEachEngine("webhook deliveries that fail verification are refused with 401 and store nothing", (db) => {
  const order = () => paynowOrder({ orderId: flakeId(), uid: "refused_user", lines: [{ productId: PRODUCT, quantity: 1 }] });
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 50]]);

  async function expectRefused(send: () => Promise<{ statusCode: number; json(): any }>, status: number, code: string) {
    const before = await tableCounts(db());
    const response = await send();
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    expect(await tableCounts(db())).toEqual(before);
  }

  it("accepts a signature made with any of the configured PayNow secrets", async () => {
    expect((await sendPaynow(harness, order(), { secret: harness.secrets.paynow[0] })).statusCode).toBe(200);
    expect((await sendPaynow(harness, order(), { secret: harness.secrets.paynow[1] })).statusCode).toBe(200);
  });

  it("PayNow: a wrong secret is webhook_signature_invalid", () =>
    expectRefused(() => sendPaynow(harness, order(), { secret: randomBytes(24).toString("hex") }), 401, "webhook_signature_invalid"));

  it("PayNow: a body changed after signing is webhook_signature_invalid", async () => {
    const body = JSON.stringify(order());
    const ts = harness.clock.now.getTime();
    const signature = signPaynow(harness.secrets.paynow[0]!, ts, body);
    await expectRefused(() => sendPaynow(harness, body.replace('"quantity":1', '"quantity":9'), { signature }), 401, "webhook_signature_invalid");
  });

  it("PayNow: a hex digest instead of base64 is webhook_signature_malformed", async () => {
    const body = JSON.stringify(order());
    const ts = harness.clock.now.getTime();
    const hex = createHmac("sha256", harness.secrets.paynow[0]!).update(`${ts}.${body}`).digest("hex");
    await expectRefused(() => sendPaynow(harness, body, { signature: hex }), 401, "webhook_signature_malformed");
  });

  it("PayNow: a timestamp in seconds instead of milliseconds is refused as too old", () =>
    expectRefused(() => sendPaynow(harness, order(), { timestampMs: Math.floor(harness.clock.now.getTime() / 1000) }), 401, "webhook_timestamp_too_old"));

  it("PayNow: missing signature or timestamp headers are webhook_signature_missing", async () => {
    await expectRefused(() => sendPaynow(harness, order(), { signature: null }), 401, "webhook_signature_missing");
    await expectRefused(() => sendPaynow(harness, order(), { timestamp: null }), 401, "webhook_signature_missing");
  });

  it("PayNow: a signature older than five minutes is webhook_timestamp_too_old", () =>
    expectRefused(() => sendPaynow(harness, order(), { timestampMs: harness.clock.now.getTime() - 300_001 }), 401, "webhook_timestamp_too_old"));

  it("PayNow: a signature dated more than five minutes ahead is webhook_timestamp_in_future", () =>
    expectRefused(() => sendPaynow(harness, order(), { timestampMs: harness.clock.now.getTime() + 300_001 }), 401, "webhook_timestamp_in_future"));

  it("PayNow: exactly five minutes either way is accepted", async () => {
    expect((await sendPaynow(harness, order(), { timestampMs: harness.clock.now.getTime() - 300_000 })).statusCode).toBe(200);
    expect((await sendPaynow(harness, order(), { timestampMs: harness.clock.now.getTime() + 300_000 })).statusCode).toBe(200);
  });

  it("Stripe: a wrong secret, a missing header, a malformed header and stale or future times are refused", async () => {
    const event = () => stripeEvent("checkout.session.completed", { id: `cs_${flakeId()}`, payment_status: "paid" });
    const nowSeconds = Math.floor(harness.clock.now.getTime() / 1000);
    await expectRefused(() => sendStripe(harness, event(), { secret: "whsec_not_ours" }), 401, "webhook_signature_invalid");
    await expectRefused(() => sendStripe(harness, event(), { header: null }), 401, "webhook_signature_missing");
    await expectRefused(() => sendStripe(harness, event(), { header: `t=${nowSeconds}` }), 401, "webhook_signature_malformed");
    await expectRefused(() => sendStripe(harness, event(), { header: `t=${nowSeconds},v1=${randomBytes(32).toString("base64")}` }), 401, "webhook_signature_malformed");
    await expectRefused(() => sendStripe(harness, event(), { timestampSeconds: nowSeconds - 301 }), 401, "webhook_timestamp_too_old");
    await expectRefused(() => sendStripe(harness, event(), { timestampSeconds: nowSeconds + 301 }), 401, "webhook_timestamp_in_future");
  });

  it("Stripe: a test instance refuses a livemode event with livemode_mismatch and stores nothing", () =>
    expectRefused(
      () => sendStripe(harness, stripeEvent("checkout.session.completed", { id: "cs_live", payment_status: "paid" }, true)),
      403,
      "livemode_mismatch",
    ));

  it("a body over 1 MB is refused with 413 body_too_large and stores nothing", async () => {
    const big = JSON.stringify({ ...order(), padding: "x".repeat(1_048_576) });
    await expectRefused(() => sendPaynow(harness, big), 413, "body_too_large");
  });

  it("a correctly signed body that is not JSON is stored as failed (invalid_payload) and acknowledged", async () => {
    const response = await sendPaynow(harness, "this is {not json");
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("failed");
    const stored = await eventRow(db(), "paynow", response.json().eventId);
    expect(stored).toMatchObject({ status: "failed", failure_reason: "invalid_payload", raw_body: Buffer.from("this is {not json") });
    const again = await sendPaynow(harness, "this is {not json");
    expect(again.json()).toMatchObject({ duplicate: true, eventId: response.json().eventId });
  });

  it("a correctly signed order lacking required fields is stored as failed and acknowledged", async () => {
    const broken = order() as { body: Record<string, unknown>; event_id: string };
    delete broken.body["lines"];
    const response = await sendPaynow(harness, broken);
    expect(response.statusCode).toBe(200);
    const stored = await eventRow(db(), "paynow", broken.event_id);
    expect(stored).toMatchObject({ status: "failed", failure_reason: "invalid_payload" });
    expect(stored!.failure_detail).toMatch(/lines/);
  });

  it("an id sent as a JSON number (precision already lost) is invalid_payload, never rounded", async () => {
    const raw = `{"event_type":"ON_ORDER_COMPLETED","event_id":498213378450001920,"body":{}}`;
    const response = await sendPaynow(harness, raw);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("failed");
    expect(response.json().eventId).toMatch(/^sha256:/);
  });

  it("an order for a user the delivery does not name fails with unknown_user", async () => {
    const anonymous = paynowOrder({ orderId: flakeId(), uid: null, lines: [{ productId: PRODUCT, quantity: 1 }] });
    const response = await sendPaynow(harness, anonymous);
    expect(response.json().status).toBe("failed");
    expect((await eventRow(db(), "paynow", anonymous.event_id))!.failure_reason).toBe("unknown_user");
  });

  it("an order for a product outside the catalogue fails with unknown_product and credits nothing", async () => {
    const unknown = paynowOrder({ orderId: flakeId(), uid: "pn_unknown_product", lines: [{ productId: "999", quantity: 1 }] });
    const response = await sendPaynow(harness, unknown);
    expect(response.json().status).toBe("failed");
    expect((await eventRow(db(), "paynow", unknown.event_id))!.failure_reason).toBe("unknown_product");
    const wallet = await db().kysely.selectFrom("wallets").selectAll().where("uid", "=", "pn_unknown_product").executeTakeFirst();
    expect(wallet).toBeUndefined();
  });
});

describeEachEngine("a webhook route without a configured secret answers 503 and stores nothing", (db) => {
  it("PayNow and Stripe", async () => {
    const { buildApp } = await import("../http/buildApp.js");
    const { loadConfig } = await import("../config.js");
    const app = await buildApp({ db: db(), config: loadConfig({}) });
    const before = await tableCounts(db());
    for (const provider of ["paynow", "stripe"]) {
      const response = await app.inject({ method: "POST", url: `/api/webhooks/${provider}`, payload: "{}", headers: { "content-type": "application/json" } });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe("webhook_not_configured");
    }
    expect(await tableCounts(db())).toEqual(before);
  });
});

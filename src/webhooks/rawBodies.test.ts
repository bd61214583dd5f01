import { createHash } from "node:crypto";
import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { eventRow, flakeId, paynowOrder, sendPaynow, sendStripe, stripeEvent, walletPoints } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { verifyPaynowSignature } from "../providers/paynow/verifyPaynowSignature.js";
import { verifyStripeSignature } from "../providers/stripe/verifyStripeSignature.js";

const PRODUCT = "458255405240287211";

/**
 * A signed delivery is stored whatever its bytes hold (NUL, bytes that are not UTF-8),
 * byte for byte, and acknowledged: the provider would otherwise retry it for days.
 */
describeEachEngine("a signed delivery is stored byte for byte, whatever it holds", (db) => {
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 50]]);

  const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

  /** The stored row, with its body as the bytes the database gives back. */
  async function stored(provider: string, eventId: string) {
    const row = await eventRow(db(), provider, eventId);
    expect(row).toBeDefined();
    return { ...row!, bytes: Buffer.from(row!.raw_body) };
  }

  /** Verifies a stored row again from what was stored: its bytes and its kept headers. */
  function reverifies(provider: "paynow" | "stripe", row: { bytes: Buffer; headers: string }): boolean {
    const headers = JSON.parse(row.headers) as Record<string, string>;
    const now = harness.clock.now;
    const check =
      provider === "paynow"
        ? verifyPaynowSignature({ rawBody: row.bytes, signature: headers["paynow-signature"], timestamp: headers["paynow-timestamp"], secrets: harness.secrets.paynow, now })
        : verifyStripeSignature({ rawBody: row.bytes, header: headers["stripe-signature"], secret: harness.secrets.stripe, now });
    return check.ok;
  }

  it("a PayNow event_id holding NUL is stored as failed (invalid_payload) under the hash of its bytes", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "raw_nul_id", lines: [{ productId: PRODUCT, quantity: 1 }] });
    const body = Buffer.from(JSON.stringify({ ...order, event_id: `${order.event_id}\u0000` }));
    const response = await sendPaynow(harness, body);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ eventId: sha256(body), status: "failed" });
    const row = await stored("paynow", sha256(body));
    expect(row).toMatchObject({ status: "failed", failure_reason: "invalid_payload", event_type: "ON_ORDER_COMPLETED" });
    expect(row.bytes.equals(body)).toBe(true);
    expect(await walletPoints(db(), "raw_nul_id")).toBeNull();
    expect((await sendPaynow(harness, body)).json()).toMatchObject({ duplicate: true, eventId: sha256(body) });
  });

  it("a Stripe type holding NUL is stored as failed and acknowledged", async () => {
    const event = stripeEvent("checkout.session.completed\u0000", { id: "cs_nul" });
    const response = await sendStripe(harness, event);
    expect(response.statusCode).toBe(200);
    const row = await stored("stripe", response.json().eventId);
    expect(row).toMatchObject({ status: "failed", failure_reason: "invalid_payload", event_type: "unknown" });
    expect(row.bytes.equals(Buffer.from(JSON.stringify(event)))).toBe(true);
  });

  it("a NUL in a field the ledger would store (a product id) fails the delivery instead of answering 500", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "raw_nul_product", lines: [{ productId: `${PRODUCT}\u0000`, quantity: 1 }] });
    const response = await sendPaynow(harness, order);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("failed");
    expect((await stored("paynow", response.json().eventId)).failure_reason).toBe("invalid_payload");
  });

  it("a NUL in a state the reader echoes (a Stripe payment_status) fails the delivery instead of answering 500", async () => {
    const event = stripeEvent("checkout.session.completed", { id: "cs_nul_status", payment_status: "unpaid\u0000" });
    const response = await sendStripe(harness, event);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("failed");
  });

  it("a raw NUL byte in the body is stored byte for byte and re-verifies", async () => {
    const body = Buffer.concat([Buffer.from('{"event_type":"ON_ORDER_COMPLETED","event_id":"1'), Buffer.from([0]), Buffer.from('"}')]);
    const response = await sendPaynow(harness, body);
    expect(response.statusCode).toBe(200);
    const row = await stored("paynow", sha256(body));
    expect(row.bytes.equals(body)).toBe(true);
    expect(reverifies("paynow", row)).toBe(true);
  });

  it("two bodies that differ only in bytes that are not UTF-8 are two deliveries, each re-verifiable", async () => {
    const bodies = [0xff, 0xfe].map((byte) => Buffer.concat([Buffer.from('{"id":"evt_x","note":"'), Buffer.from([byte]), Buffer.from('"}')]));
    for (const body of bodies) {
      const response = await sendStripe(harness, body);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ eventId: sha256(body), status: "failed", duplicate: false });
      const row = await stored("stripe", sha256(body));
      expect(row.failure_detail).toBe("body is not valid UTF-8");
      expect(row.bytes.equals(body)).toBe(true);
      expect(reverifies("stripe", row)).toBe(true);
    }
  });

  it("any signed bytes are acknowledged, stored exactly, and re-verify from the row", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.constantFrom("paynow" as const, "stripe" as const), async (array, provider) => {
        const body = Buffer.from(array);
        const response = provider === "paynow" ? await sendPaynow(harness, body) : await sendStripe(harness, body);
        expect(response.statusCode, response.body).toBe(200);
        const row = await stored(provider, response.json().eventId);
        expect(row.bytes.equals(body)).toBe(true);
        expect(reverifies(provider, row)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("every wallet still equals the sum of its entries", async () => {
    expect(await invariantViolations(db())).toEqual([]);
  });
});

import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations, tableCounts } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, sendStripe, stripeEvent, walletPoints, webhookHarness } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

function session(input: { uid?: string; reference?: boolean; paymentIntent: string; amountTotal?: number | null; status?: string; priceId?: string; productId?: string; lineItems?: boolean; quantity?: string }) {
  const metadata: Record<string, string> = {};
  if (input.uid && !input.reference) metadata["uid"] = input.uid;
  if (!input.lineItems && input.priceId) metadata["price_id"] = input.priceId;
  if (!input.lineItems && input.productId) metadata["product_id"] = input.productId;
  if (input.quantity !== undefined) metadata["quantity"] = input.quantity;
  return {
    id: id("cs_test"),
    object: "checkout.session",
    payment_status: input.status ?? "paid",
    client_reference_id: input.reference ? input.uid : null,
    metadata,
    payment_intent: input.paymentIntent,
    amount_total: input.amountTotal === undefined ? 1000 : input.amountTotal,
    currency: "usd",
    ...(input.lineItems
      ? { line_items: { object: "list", data: [{ quantity: 2, price: { id: input.priceId ?? id("price"), product: input.productId ?? id("prod") } }] } }
      : {}),
  };
}

const refund = (paymentIntent: string, amount: number, refundId = id("re"), status = "succeeded") => ({
  id: refundId,
  object: "refund",
  amount,
  status,
  payment_intent: paymentIntent,
  charge: id("ch"),
});

const dispute = (paymentIntent: string, disputeId: string, status = "needs_response") => ({
  id: disputeId,
  object: "dispute",
  amount: 1000,
  status,
  payment_intent: paymentIntent,
  charge: id("ch"),
});

describeEachEngine("Stripe webhooks credit, refund and dispute through the ledger", (db) => {
  const harness = useWebhookHarness(db, [["stripe", "price_100pts", 100], ["stripe", "prod_points", 10]]);

  async function buy(uid: string, amountTotal = 1000) {
    const paymentIntent = id("pi");
    const response = await sendStripe(harness, stripeEvent("checkout.session.completed", session({ uid, paymentIntent, amountTotal, priceId: "price_100pts" })));
    expect(response.json().status).toBe("processed");
    return paymentIntent;
  }

  it("checkout.session.completed (paid) credits the metadata.uid user by price id", async () => {
    const event = stripeEvent("checkout.session.completed", session({ uid: "st_credit", paymentIntent: id("pi"), priceId: "price_100pts" }));
    const response = await sendStripe(harness, event);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ eventId: event.id, status: "processed", duplicate: false });
    expect(await walletPoints(db(), "st_credit")).toBe(100);
    expect((await eventRow(db(), "stripe", event.id))!.livemode).toBe(0);
  });

  it("credits client_reference_id by the product of expanded line items × quantity", async () => {
    const event = stripeEvent("checkout.session.completed", session({ uid: "st_lines", reference: true, paymentIntent: id("pi"), priceId: "price_unknown", productId: "prod_points", lineItems: true }));
    await sendStripe(harness, event);
    expect(await walletPoints(db(), "st_lines")).toBe(20);
  });

  it("an unpaid session is ignored; async_payment_succeeded then credits it once", async () => {
    const paymentIntent = id("pi");
    const unpaid = session({ uid: "st_async", paymentIntent, priceId: "price_100pts", status: "unpaid" });
    expect((await sendStripe(harness, stripeEvent("checkout.session.completed", unpaid))).json().status).toBe("ignored");
    const paid = { ...unpaid, payment_status: "paid" };
    expect((await sendStripe(harness, stripeEvent("checkout.session.async_payment_succeeded", paid))).json().status).toBe("processed");
    expect((await sendStripe(harness, stripeEvent("checkout.session.async_payment_succeeded", paid))).json().status).toBe("processed");
    expect(await walletPoints(db(), "st_async")).toBe(100);
  });

  it("a duplicate delivery of the same event id changes nothing", async () => {
    const event = stripeEvent("checkout.session.completed", session({ uid: "st_dup", paymentIntent: id("pi"), priceId: "price_100pts" }));
    await sendStripe(harness, event);
    const before = await tableCounts(db());
    expect((await sendStripe(harness, event)).json().duplicate).toBe(true);
    expect(await tableCounts(db())).toEqual(before);
  });

  it("refunds are keyed on the refund id: refund.created and charge.refunded for one re_ reverse once", async () => {
    const paymentIntent = await buy("st_refund");
    const partial = refund(paymentIntent, 250);
    await sendStripe(harness, stripeEvent("refund.created", partial));
    expect(await walletPoints(db(), "st_refund")).toBe(75);
    await sendStripe(harness, stripeEvent("charge.refunded", { id: id("ch"), object: "charge", payment_intent: paymentIntent, refunds: { data: [partial] } }));
    expect(await walletPoints(db(), "st_refund")).toBe(75);
    await sendStripe(harness, stripeEvent("refund.created", refund(paymentIntent, 250)));
    expect(await walletPoints(db(), "st_refund")).toBe(50);
    await sendStripe(harness, stripeEvent("refund.updated", refund(paymentIntent, 500)));
    expect(await walletPoints(db(), "st_refund")).toBe(0);
    // Nothing is left: a further refund reverses nothing and cannot go past the purchase.
    await sendStripe(harness, stripeEvent("refund.created", refund(paymentIntent, 500)));
    expect(await walletPoints(db(), "st_refund")).toBe(0);
  });

  it("a pending refund is ignored", async () => {
    const paymentIntent = await buy("st_refund_pending");
    const response = await sendStripe(harness, stripeEvent("refund.created", refund(paymentIntent, 1000, id("re"), "pending")));
    expect(response.json().status).toBe("ignored");
    expect(await walletPoints(db(), "st_refund_pending")).toBe(100);
  });

  it("dispute created and funds_withdrawn reverse once; funds_reinstated and closed-won restore once", async () => {
    const paymentIntent = await buy("st_dispute");
    const disputeId = id("dp");
    await sendStripe(harness, stripeEvent("charge.dispute.created", dispute(paymentIntent, disputeId)));
    await sendStripe(harness, stripeEvent("charge.dispute.funds_withdrawn", dispute(paymentIntent, disputeId)));
    expect(await walletPoints(db(), "st_dispute")).toBe(0);
    await sendStripe(harness, stripeEvent("charge.dispute.funds_reinstated", dispute(paymentIntent, disputeId, "under_review")));
    expect(await walletPoints(db(), "st_dispute")).toBe(100);
    await sendStripe(harness, stripeEvent("charge.dispute.closed", dispute(paymentIntent, disputeId, "won")));
    expect(await walletPoints(db(), "st_dispute")).toBe(100);
    const kinds = await db().kysely.selectFrom("ledger_entries").select(["kind", "amount"]).where("uid", "=", "st_dispute").orderBy("id").execute();
    expect(kinds).toEqual([
      { kind: "purchase", amount: 100 },
      { kind: "reversal", amount: -100 },
      { kind: "reinstatement", amount: 100 },
    ]);
  });

  it("a dispute closed as lost is ignored and the points stay reversed", async () => {
    const paymentIntent = await buy("st_dispute_lost");
    const disputeId = id("dp");
    await sendStripe(harness, stripeEvent("charge.dispute.created", dispute(paymentIntent, disputeId)));
    expect((await sendStripe(harness, stripeEvent("charge.dispute.closed", dispute(paymentIntent, disputeId, "lost")))).json().status).toBe("ignored");
    expect(await walletPoints(db(), "st_dispute_lost")).toBe(0);
  });

  for (const quantity of ["-5", "0", "2.5", "abc", "0x10"]) {
    it(`metadata.quantity ${JSON.stringify(quantity)} fails the delivery with a reason and credits nothing`, async () => {
      const uid = `st_qty_${id("u")}`;
      const event = stripeEvent("checkout.session.completed", session({ uid, paymentIntent: id("pi"), priceId: "price_100pts", quantity }));
      const response = await sendStripe(harness, event);
      expect(response.statusCode).toBe(200);
      expect(response.json().status).toBe("failed");
      const row = await eventRow(db(), "stripe", event.id);
      expect(row).toMatchObject({ failure_reason: "invalid_payload", failure_detail: "data.object.metadata.quantity: must be a whole number from 1 to 1000000" });
      expect(await walletPoints(db(), uid)).toBeNull();
    });
  }

  it("metadata.quantity \"3\" credits three units", async () => {
    await sendStripe(harness, stripeEvent("checkout.session.completed", session({ uid: "st_qty_three", paymentIntent: id("pi"), priceId: "price_100pts", quantity: "3" })));
    expect(await walletPoints(db(), "st_qty_three")).toBe(3 * 100);
  });

  it("a session without amount_total fails instead of becoming a free purchase a 1-cent refund empties", async () => {
    const paymentIntent = id("pi");
    const unpriced = session({ uid: "st_no_total", paymentIntent, priceId: "price_100pts", amountTotal: null });
    const response = await sendStripe(harness, stripeEvent("checkout.session.completed", unpriced));
    expect(response.json().status).toBe("failed");
    expect((await eventRow(db(), "stripe", response.json().eventId))!.failure_reason).toBe("invalid_payload");
    expect(await walletPoints(db(), "st_no_total")).toBeNull();
    expect((await sendStripe(harness, stripeEvent("refund.created", refund(paymentIntent, 1)))).json().status).toBe("parked");
    // The same session once the data says what was paid: credited, and the parked cent reverses its share.
    const priced = { ...unpriced, amount_total: 1000 };
    expect((await sendStripe(harness, stripeEvent("checkout.session.async_payment_succeeded", priced))).json().status).toBe("processed");
    expect(await walletPoints(db(), "st_no_total")).toBe(100 - Math.floor((100 * 1) / 1000));
  });

  it("an inquiry (warning_*) reverses nothing, and its closing restores nothing", async () => {
    const paymentIntent = await buy("st_inquiry");
    const disputeId = id("dp");
    for (const [type, status] of [
      ["charge.dispute.created", "warning_needs_response"],
      ["charge.dispute.updated", "warning_under_review"],
      ["charge.dispute.closed", "warning_closed"],
    ] as const) {
      expect((await sendStripe(harness, stripeEvent(type, dispute(paymentIntent, disputeId, status)))).json().status).toBe("ignored");
      expect(await walletPoints(db(), "st_inquiry")).toBe(100);
    }
    const kinds = await db().kysely.selectFrom("ledger_entries").select("kind").where("uid", "=", "st_inquiry").execute();
    expect(kinds).toEqual([{ kind: "purchase" }]);
  });

  it("an inquiry that becomes a chargeback reverses when the funds are withdrawn, and a win restores", async () => {
    const paymentIntent = await buy("st_inquiry_escalated");
    const disputeId = id("dp");
    await sendStripe(harness, stripeEvent("charge.dispute.created", dispute(paymentIntent, disputeId, "warning_needs_response")));
    expect(await walletPoints(db(), "st_inquiry_escalated")).toBe(100);
    await sendStripe(harness, stripeEvent("charge.dispute.funds_withdrawn", dispute(paymentIntent, disputeId, "needs_response")));
    expect(await walletPoints(db(), "st_inquiry_escalated")).toBe(0);
    await sendStripe(harness, stripeEvent("charge.dispute.closed", dispute(paymentIntent, disputeId, "won")));
    expect(await walletPoints(db(), "st_inquiry_escalated")).toBe(100);
  });

  it("a session whose price and product are outside the catalogue fails with unknown_product", async () => {
    const event = stripeEvent("checkout.session.completed", session({ uid: "st_unknown", paymentIntent: id("pi"), priceId: "price_nope" }));
    expect((await sendStripe(harness, event)).json().status).toBe("failed");
    expect((await eventRow(db(), "stripe", event.id))!.failure_reason).toBe("unknown_product");
  });

  it("every wallet still equals the sum of its entries", async () => {
    expect(await invariantViolations(db())).toEqual([]);
  });
});

describeEachEngine("a prod instance refuses Stripe test-mode events", (db) => {
  it("livemode: false answers 403 livemode_mismatch and stores nothing", async () => {
    const harness = await webhookHarness(db(), { ENVIRONMENT: "prod" });
    const before = await tableCounts(db());
    const response = await sendStripe(harness, stripeEvent("checkout.session.completed", { id: "cs_test_1", payment_status: "paid" }, false));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe("livemode_mismatch");
    expect(await tableCounts(db())).toEqual(before);
    const live = await sendStripe(harness, stripeEvent("invoice.paid", { id: "in_1" }, true));
    expect(live.json().status).toBe("ignored");
  });
});

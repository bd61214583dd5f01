import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { eventRow, flakeId, paynowChargeback, paynowOrder, paynowRefund, sendPaynow, sendStripe, stripeEvent, walletPoints } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";

const PRODUCT = "458255405240287300";

describeEachEngine("events that arrive before their purchase are parked and applied when it lands", (db) => {
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 50], ["stripe", "price_parked", 100]]);

  it("a refund before its order is parked, then applied by the order's arrival", async () => {
    const orderId = flakeId();
    const refund = paynowRefund({ orderId, refundedMinor: 250 });
    const parked = await sendPaynow(harness, refund);
    expect(parked.statusCode).toBe(200);
    expect(parked.json().status).toBe("parked");
    expect(await eventRow(db(), "paynow", refund.event_id)).toMatchObject({ status: "parked", waiting_for: `paynow:order:${orderId}` });
    expect(await walletPoints(db(), "ooo_refund")).toBeNull();

    await sendPaynow(harness, paynowOrder({ orderId, uid: "ooo_refund", lines: [{ productId: PRODUCT, quantity: 1 }] }));
    expect(await walletPoints(db(), "ooo_refund")).toBe(25);
    expect(await eventRow(db(), "paynow", refund.event_id)).toMatchObject({ status: "processed", waiting_for: null });
  });

  it("a won chargeback before its chargeback, both before the order, leaves the purchase whole without entries that cancel out", async () => {
    const orderId = flakeId();
    const paymentId = flakeId();
    const won = paynowChargeback({ orderId, paymentId, closed: "won" });
    const opened = paynowChargeback({ orderId, paymentId });
    expect((await sendPaynow(harness, won)).json().status).toBe("parked");
    expect((await sendPaynow(harness, opened)).json().status).toBe("parked");
    await sendPaynow(harness, paynowOrder({ orderId, uid: "ooo_chargeback", lines: [{ productId: PRODUCT, quantity: 2 }] }));
    expect(await walletPoints(db(), "ooo_chargeback")).toBe(100);
    const kinds = await db().kysely.selectFrom("ledger_entries").select(["kind", "amount"]).where("uid", "=", "ooo_chargeback").orderBy("id").execute();
    expect(kinds).toEqual([{ kind: "purchase", amount: 100 }]);
    expect((await eventRow(db(), "paynow", won.event_id))!.status).toBe("processed");
    expect((await eventRow(db(), "paynow", opened.event_id))!.status).toBe("processed");
  });

  it("a won chargeback after its order but before its chargeback is applied, not parked, and the chargeback then takes nothing", async () => {
    const orderId = flakeId();
    const paymentId = flakeId();
    await sendPaynow(harness, paynowOrder({ orderId, uid: "ooo_won_first", lines: [{ productId: PRODUCT, quantity: 2 }] }));
    expect((await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "won" }))).json().status).toBe("processed");
    expect((await sendPaynow(harness, paynowChargeback({ orderId, paymentId }))).json().status).toBe("processed");
    expect(await walletPoints(db(), "ooo_won_first")).toBe(100);
  });

  it("a Stripe refund before its checkout session is parked on the payment intent", async () => {
    const paymentIntent = `pi_${flakeId()}`;
    const refund = stripeEvent("refund.created", { id: `re_${flakeId()}`, amount: 500, status: "succeeded", payment_intent: paymentIntent });
    expect((await sendStripe(harness, refund)).json().status).toBe("parked");
    const checkout = stripeEvent("checkout.session.completed", {
      id: `cs_${flakeId()}`,
      payment_status: "paid",
      metadata: { uid: "ooo_stripe", price_id: "price_parked" },
      payment_intent: paymentIntent,
      amount_total: 1000,
    });
    await sendStripe(harness, checkout);
    expect(await walletPoints(db(), "ooo_stripe")).toBe(50);
  });

  it("a refund racing its purchase is never left parked", async () => {
    const pairs = Array.from({ length: 20 }, (_, index) => {
      const orderId = flakeId();
      return [
        paynowRefund({ orderId, refundedMinor: 500 }),
        paynowOrder({ orderId, uid: `ooo_race_${index}`, lines: [{ productId: PRODUCT, quantity: 1 }] }),
      ] as const;
    });
    await Promise.all(pairs.flatMap((pair) => pair.map((delivery) => sendPaynow(harness, delivery))));
    for (const [refund] of pairs) expect((await eventRow(db(), "paynow", refund.event_id))!.status).toBe("processed");
    for (let index = 0; index < 20; index++) expect(await walletPoints(db(), `ooo_race_${index}`)).toBe(0);
  });

  it("concurrent deliveries, duplicates among them, are each stored and applied exactly once", async () => {
    const orders = Array.from({ length: 60 }, (_, index) =>
      paynowOrder({ orderId: flakeId(), uid: `ooo_burst_${index % 7}`, lines: [{ productId: PRODUCT, quantity: 1 }] }),
    );
    const deliveries = [...orders, ...orders.filter((_, index) => index % 3 === 0)];
    const responses = await Promise.all(deliveries.map((order) => sendPaynow(harness, order)));
    expect(responses.every((response) => response.statusCode === 200)).toBe(true);
    expect(responses.filter((response) => response.json().duplicate).length).toBe(20);
    const stored = await db().kysely.selectFrom("webhook_events").select("event_id").where("event_id", "in", orders.map((o) => o.event_id)).execute();
    expect(stored.length).toBe(60);
    let total = 0;
    for (let user = 0; user < 7; user++) total += (await walletPoints(db(), `ooo_burst_${user}`)) ?? 0;
    expect(total).toBe(60 * 50);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

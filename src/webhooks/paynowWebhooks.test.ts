import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations, tableCounts } from "../../test/support/testDatabase.js";
import { spendPoints } from "../ledger/spendPoints.js";
import { catalogue, eventRow, flakeId, paynowChargeback, paynowOrder, paynowRefund, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";

const PRODUCT = "458255405240287232";

describeEachEngine("PayNow webhooks credit, refund and charge back through the ledger", (db) => {
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 50]]);

  async function purchase(uid: string, quantity = 1, totalMinor = 500) {
    const orderId = flakeId();
    const response = await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity }], totalMinor }));
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("processed");
    return orderId;
  }

  it("ON_ORDER_COMPLETED credits catalogue points × quantity to checkout.metadata.uid", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "pn_credit", lines: [{ productId: PRODUCT, quantity: 3 }] });
    const response = await sendPaynow(harness, order);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ received: true, eventId: order.event_id, status: "processed", duplicate: false });
    expect(await walletPoints(db(), "pn_credit")).toBe(150);
    const entry = await db().kysely.selectFrom("ledger_entries").selectAll().where("uid", "=", "pn_credit").executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ kind: "purchase", amount: 150, idempotency_key: `paynow:order:${order.body.id}`, source: "webhook" });
    const stored = await eventRow(db(), "paynow", order.event_id);
    expect(stored).toMatchObject({ event_type: "ON_ORDER_COMPLETED", status: "processed", raw_body: Buffer.from(JSON.stringify(order)) });
    expect(JSON.parse(stored!.headers)).toHaveProperty("paynow-timestamp", String(harness.clock.now.getTime()));
  });

  it("keeps flake ids as strings, digit for digit", async () => {
    const orderId = "498213377992822784123";
    const order = paynowOrder({ orderId, uid: "pn_flake", lines: [{ productId: PRODUCT, quantity: 1 }] });
    await sendPaynow(harness, order);
    const purchaseRow = await db().kysely.selectFrom("webhook_purchases").selectAll().where("uid", "=", "pn_flake").executeTakeFirstOrThrow();
    expect(purchaseRow.purchase_ref).toBe(`paynow:order:${orderId}`);
    expect((await eventRow(db(), "paynow", order.event_id))!.event_id).toBe(order.event_id);
  });

  it("a duplicate delivery of the same event id answers 200 and changes nothing", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "pn_dup", lines: [{ productId: PRODUCT, quantity: 1 }] });
    await sendPaynow(harness, order);
    const before = await tableCountsOf();
    const again = await sendPaynow(harness, order);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, status: "processed" });
    expect(await tableCountsOf()).toEqual(before);
    expect(await walletPoints(db(), "pn_dup")).toBe(50);
  });

  it("the same order under a new event id credits once", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "pn_same_order", lines: [{ productId: PRODUCT, quantity: 1 }] });
    await sendPaynow(harness, order);
    const resent = await sendPaynow(harness, { ...order, event_id: flakeId() });
    expect(resent.json()).toMatchObject({ status: "processed", duplicate: false });
    expect(await walletPoints(db(), "pn_same_order")).toBe(50);
  });

  it("a completed full refund reverses the whole order", async () => {
    const orderId = await purchase("pn_full_refund", 2, 1000);
    const refund = await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 1000, amountMinor: 1000 }));
    expect(refund.json().status).toBe("processed");
    expect(await walletPoints(db(), "pn_full_refund")).toBe(0);
    const reversal = await db().kysely.selectFrom("ledger_entries").selectAll().where("uid", "=", "pn_full_refund").where("kind", "=", "reversal").executeTakeFirstOrThrow();
    expect(reversal.amount).toBe(-100);
    expect(reversal.idempotency_key).toMatch(/^paynow:refund:/);
  });

  it("a refund that is not completed is stored and ignored", async () => {
    const orderId = await purchase("pn_refund_pending");
    const pending = paynowRefund({ orderId, refundedMinor: 500, status: "processing" });
    const response = await sendPaynow(harness, pending);
    expect(response.json().status).toBe("ignored");
    expect((await eventRow(db(), "paynow", pending.event_id))!.failure_reason).toBe("refund_processing");
    expect(await walletPoints(db(), "pn_refund_pending")).toBe(50);
  });

  it("partial refunds reverse in proportion, rounded down on the cumulative refunded amount", async () => {
    // 50 points for 300 cents: refunds of 100, 100, 100 cents reverse 16, 17, 17.
    const orderId = await purchase("pn_partial", 1, 300);
    const refundIds = [flakeId(), flakeId(), flakeId()];
    const after: number[] = [];
    for (const refundId of refundIds) {
      await sendPaynow(harness, paynowRefund({ orderId, refundId, refundedMinor: 100, amountMinor: 300 }));
      after.push((await walletPoints(db(), "pn_partial"))!);
    }
    expect(after).toEqual([34, 17, 0]);
  });

  it("repeated partial refunds never reverse more than the order, and a replayed refund reverses once", async () => {
    const orderId = await purchase("pn_over_refund", 1, 500);
    const refundId = flakeId();
    await sendPaynow(harness, paynowRefund({ orderId, refundId, refundedMinor: 400 }));
    // The same refund delivered again under a new event id.
    await sendPaynow(harness, paynowRefund({ orderId, refundId, refundedMinor: 400 }));
    expect(await walletPoints(db(), "pn_over_refund")).toBe(10);
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 400 }));
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 400 }));
    expect(await walletPoints(db(), "pn_over_refund")).toBe(0);
    const reversed = await db().kysely.selectFrom("ledger_entries").select("amount").where("uid", "=", "pn_over_refund").where("kind", "=", "reversal").execute();
    expect(reversed.map((row) => row.amount)).toEqual([-40, -10]);
  });

  it("ON_CHARGEBACK reverses what remains and a won ON_CHARGEBACK_CLOSED restores it", async () => {
    const orderId = await purchase("pn_chargeback", 2, 1000);
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 250, amountMinor: 1000 }));
    expect(await walletPoints(db(), "pn_chargeback")).toBe(75);
    const paymentId = flakeId();
    const opened = await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    expect(opened.json().status).toBe("processed");
    expect(await walletPoints(db(), "pn_chargeback")).toBe(0);
    const won = await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "won" }));
    expect(won.json().status).toBe("processed");
    expect(await walletPoints(db(), "pn_chargeback")).toBe(75);
    const reinstatement = await db().kysely.selectFrom("ledger_entries").selectAll().where("uid", "=", "pn_chargeback").where("kind", "=", "reinstatement").executeTakeFirstOrThrow();
    expect(reinstatement.amount).toBe(75);
    expect(reinstatement.idempotency_key).toBe(`paynow:chargeback:${paymentId}:ON_CHARGEBACK_CLOSED`);
    // The chargeback delivered again changes nothing.
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    expect(await walletPoints(db(), "pn_chargeback")).toBe(75);
  });

  it("a lost chargeback is stored and ignored: the points stay reversed", async () => {
    const orderId = await purchase("pn_chargeback_lost");
    const paymentId = flakeId();
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    const lost = await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "lost" }));
    expect(lost.json().status).toBe("ignored");
    expect(await walletPoints(db(), "pn_chargeback_lost")).toBe(0);
  });

  it("a reversal of points already spent takes the wallet below zero and flags it (allow_negative)", async () => {
    const orderId = await purchase("pn_spent");
    await spendPoints(db(), { uid: "pn_spent", points: 40, idempotencyKey: "pn_spent_1", now: harness.clock.now });
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 500 }));
    const wallet = await db().kysely.selectFrom("wallets").selectAll().where("uid", "=", "pn_spent").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(-40);
    expect(wallet.negative_flagged).toBe(1);
  });

  it("other event types are stored and ignored", async () => {
    const event = { event_type: "ON_DELIVERY_ITEM_ADDED", event_id: flakeId(), body: { anything: true } };
    const response = await sendPaynow(harness, event);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("ignored");
    expect((await eventRow(db(), "paynow", event.event_id))!.failure_reason).toBe("unhandled_event_type");
  });

  it("counts deliveries by provider and outcome on /metrics", async () => {
    const response = await harness.app.inject({ method: "GET", url: "/metrics" });
    expect(response.body).toMatch(/reckon_webhook_deliveries_total\{provider="paynow",outcome="processed"\} [1-9]/);
    expect(response.body).toMatch(/reckon_webhook_deliveries_total\{provider="paynow",outcome="duplicate"\} [1-9]/);
    expect(response.body).toMatch(/reckon_webhook_ack_seconds_count\{provider="paynow"\} [1-9]/);
  });

  it("every wallet still equals the sum of its entries", async () => {
    expect(await invariantViolations(db())).toEqual([]);
  });

  const tableCountsOf = () => tableCounts(db());
});

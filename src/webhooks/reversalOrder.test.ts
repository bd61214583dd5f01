import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { eventRow, flakeId, paynowChargeback, paynowOrder, paynowRefund, sendPaynow, sendStripe, stripeEvent, walletPoints, type WebhookHarness } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { reverseEntry } from "../ledger/reverseEntry.js";

const PRODUCT = "reversal_order_product";

/** A one-unit purchase of PRODUCT by `uid`, paid 100 cents, then charged back (the dispute still open). */
async function chargedBackPurchase(harness: WebhookHarness, uid: string): Promise<{ orderId: string; paymentId: string }> {
  const orderId = flakeId();
  const paymentId = flakeId();
  await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }], totalMinor: 100 }));
  await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
  return { orderId, paymentId };
}

/** Every order of `items`, each once. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

describeEachEngine("the points a purchase keeps depend on its refunds and chargebacks, not on their arrival order", (db) => {
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 100], ["stripe", "price_order_free", 100]]);

  it("a 40% refund and a won chargeback leave 60 of 100 points in all 24 arrival orders", async () => {
    const names = ["purchase", "refund", "chargeback", "won"] as const;
    const kept: Record<string, number | null> = {};
    for (const [index, order] of permutations(names).entries()) {
      const orderId = flakeId();
      const paymentId = flakeId();
      const uid = `order_free_${index}`;
      const deliveries = {
        purchase: paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }], totalMinor: 100 }),
        refund: paynowRefund({ orderId, refundedMinor: 40 }),
        chargeback: paynowChargeback({ orderId, paymentId }),
        won: paynowChargeback({ orderId, paymentId, closed: "won" }),
      };
      for (const name of order) expect((await sendPaynow(harness, deliveries[name])).statusCode).toBe(200);
      kept[order.join(",")] = await walletPoints(db(), uid);
    }
    // 100 points for 100 cents: 40 cents refunded take floor(100 × 40 / 100) = 40; the won chargeback takes nothing.
    const expected = Object.fromEntries(Object.keys(kept).map((order) => [order, 100 - Math.floor((100 * 40) / 100)]));
    expect(kept).toEqual(expected);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a Stripe refund and a dispute whose funds were withdrawn and reinstated leave the refunded share taken in all 24 arrival orders", async () => {
    const names = ["checkout", "refund", "withdrawn", "reinstated"] as const;
    const kept: Record<string, number | null> = {};
    for (const [index, order] of permutations(names).entries()) {
      const paymentIntent = `pi_${flakeId()}`;
      const uid = `stripe_order_free_${index}`;
      const dispute = (status: string) => ({ id: `dp_${paymentIntent}`, status, payment_intent: paymentIntent, amount: 1000, charge: `ch_${paymentIntent}` });
      const events = {
        checkout: stripeEvent("checkout.session.completed", {
          id: `cs_${flakeId()}`,
          payment_status: "paid",
          metadata: { uid, price_id: "price_order_free" },
          payment_intent: paymentIntent,
          amount_total: 1000,
        }),
        refund: stripeEvent("refund.created", { id: `re_${flakeId()}`, amount: 250, status: "succeeded", payment_intent: paymentIntent }),
        withdrawn: stripeEvent("charge.dispute.funds_withdrawn", dispute("needs_response")),
        reinstated: stripeEvent("charge.dispute.funds_reinstated", dispute("won")),
      };
      for (const name of order) expect((await sendStripe(harness, events[name])).statusCode).toBe(200);
      kept[order.join(",")] = await walletPoints(db(), uid);
    }
    const expected = Object.fromEntries(Object.keys(kept).map((order) => [order, 100 - Math.floor((100 * 250) / 1000)]));
    expect(kept).toEqual(expected);
  });

  it("refunds, a chargeback and its won outcome delivered at once, with redeliveries among them, end where the set says", async () => {
    const purchases = Array.from({ length: 8 }, (_, index) => ({ orderId: flakeId(), paymentId: flakeId(), uid: `at_once_${index}` }));
    for (const { orderId, uid } of purchases) {
      await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }], totalMinor: 300 }));
    }
    const deliveries = purchases.flatMap(({ orderId, paymentId }) => {
      const first = paynowRefund({ orderId, refundedMinor: 100 });
      return [first, first, paynowRefund({ orderId, refundedMinor: 50 }), paynowChargeback({ orderId, paymentId }), paynowChargeback({ orderId, paymentId, closed: "won" })];
    });
    const responses = await Promise.all(deliveries.map((delivery) => sendPaynow(harness, delivery)));
    expect(responses.map((response) => response.statusCode)).toEqual(deliveries.map(() => 200));
    // 150 of 300 cents refunded take floor(100 × 150 / 300) = 50 points; the chargeback was won.
    for (const { uid } of purchases) expect(await walletPoints(db(), uid)).toBe(100 - Math.floor((100 * 150) / 300));
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a won chargeback racing an admin's restoration of part of its reversal leaves the purchase whole", async () => {
    const purchases = Array.from({ length: 8 }, (_, index) => ({ orderId: flakeId(), paymentId: flakeId(), uid: `won_races_admin_${index}` }));
    for (const { orderId, paymentId, uid } of purchases) {
      await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }], totalMinor: 100 }));
      await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    }
    await Promise.all(
      purchases.flatMap(async ({ orderId, paymentId, uid }) => {
        const reversal = await db().kysely.selectFrom("ledger_entries").select("id").where("uid", "=", uid).where("kind", "=", "reversal").executeTakeFirstOrThrow();
        const won = paynowChargeback({ orderId, paymentId, closed: "won" });
        const [delivered] = await Promise.all([
          sendPaynow(harness, won),
          reverseEntry(db(), { entryId: reversal.id, points: 30, reason: "goodwill", actor: "admin:test", idempotencyKey: `race-${orderId}`, now: harness.clock.now }),
        ]);
        expect(delivered.json().status).toBe("processed");
      }),
    );
    for (const { uid } of purchases) expect(await walletPoints(db(), uid)).toBe(100);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a won chargeback restores only what is still reversed after an admin restored part of it", async () => {
    const uid = "admin_partly_restored";
    const { orderId, paymentId } = await chargedBackPurchase(harness, uid);
    expect(await walletPoints(db(), uid)).toBe(0);
    const reversal = await db().kysely.selectFrom("ledger_entries").select("id").where("uid", "=", uid).where("kind", "=", "reversal").executeTakeFirstOrThrow();
    const restored = await reverseEntry(db(), { entryId: reversal.id, points: 30, reason: "goodwill while disputed", actor: "admin:test", idempotencyKey: `restore-${orderId}`, now: harness.clock.now });
    expect(restored).toMatchObject({ kind: "fresh", outcome: { outcome: "posted" } });
    expect(await walletPoints(db(), uid)).toBe(30);

    const won = paynowChargeback({ orderId, paymentId, closed: "won" });
    expect((await sendPaynow(harness, won)).json().status).toBe("processed");
    expect(await eventRow(db(), "paynow", won.event_id)).toMatchObject({ status: "processed", failure_reason: null });
    // Nothing was refunded, so the won chargeback leaves the purchase whole: 100, not 130.
    expect(await walletPoints(db(), uid)).toBe(100);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

describeEachEngine("an admin's corrections next to the provider's events", (db) => {
  const harness = useWebhookHarness(db, [["paynow", PRODUCT, 100]]);

  const reversalsOf = (uid: string) =>
    db().kysely.selectFrom("ledger_entries").select(["id", "kind", "source"]).where("uid", "=", uid).where("kind", "in", ["purchase", "reversal"]).orderBy("id").execute();

  it("an admin's reversal of the purchase itself stays when refunds and chargebacks come and go", async () => {
    const orderId = flakeId();
    const paymentId = flakeId();
    const uid = "admin_took_part";
    await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }], totalMinor: 100 }));
    const [purchase] = await reversalsOf(uid);
    await reverseEntry(db(), { entryId: purchase!.id, points: 30, reason: "points obtained by abuse", actor: "admin:test", idempotencyKey: `take-${orderId}`, now: harness.clock.now });
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 40 }));
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    expect(await walletPoints(db(), uid)).toBe(0);
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "won" }));
    // 30 taken by the admin, 40 by the refund of 40 of 100 cents; the won chargeback takes nothing.
    expect(await walletPoints(db(), uid)).toBe(100 - 30 - 40);
  });

  it("an admin's restoration of part of a webhook reversal lasts until the provider next says something about the purchase", async () => {
    const uid = "admin_restored_then_refund";
    const { orderId } = await chargedBackPurchase(harness, uid);
    const reversal = (await reversalsOf(uid)).find((entry) => entry.kind === "reversal")!;
    await reverseEntry(db(), { entryId: reversal.id, points: 30, reason: "goodwill while disputed", actor: "admin:test", idempotencyKey: `restore-${orderId}`, now: harness.clock.now });
    expect(await walletPoints(db(), uid)).toBe(30);
    // The chargeback is still open: the purchase is wholly reversed again.
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 10 }));
    expect(await walletPoints(db(), uid)).toBe(0);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { flakeId, paynowChargeback, paynowOrder, paynowRefund, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { spendPoints } from "../ledger/spendPoints.js";

describeEachEngine("REVERSAL_POLICY=clamp reverses only what the wallet holds and records the shortfall", (db) => {
  const harness = useWebhookHarness(db, [["paynow", "clamp_product", 100]], { REVERSAL_POLICY: "clamp" });

  /** `uid` buys one clamp_product (100 points) paying `totalMinor` cents, then spends `spent` of them; returns the order id. */
  async function purchaseAndSpend(uid: string, spent: number, totalMinor = 500): Promise<string> {
    const orderId = flakeId();
    await sendPaynow(harness, paynowOrder({ orderId, uid, lines: [{ productId: "clamp_product", quantity: 1 }], totalMinor }));
    await spendPoints(db(), { uid, points: spent, idempotencyKey: `${uid}_spend`, now: harness.clock.now });
    return orderId;
  }

  it("a refund of points partly spent stops at zero; the shortfall is audited", async () => {
    const orderId = await purchaseAndSpend("clamp_user", 70);
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 500 }));
    const wallet = await db().kysely.selectFrom("wallets").selectAll().where("uid", "=", "clamp_user").executeTakeFirstOrThrow();
    expect(wallet).toMatchObject({ points: 0, negative_flagged: 0 });
    const reversal = await db().kysely.selectFrom("webhook_reversals").selectAll().where("purchase_ref", "=", `paynow:order:${orderId}`).executeTakeFirstOrThrow();
    expect(reversal).toMatchObject({ points: 100, shortfall: 70 });
    const audit = await db().kysely.selectFrom("audit_log").selectAll().where("action", "=", "webhook.reversal_clamped").where("subject", "=", "clamp_user").executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ reversed: 30, shortfall: 70 });
  });

  it("a chargeback on an empty wallet reverses nothing and a won chargeback then restores nothing", async () => {
    const orderId = await purchaseAndSpend("clamp_empty", 100);
    const paymentId = flakeId();
    expect((await sendPaynow(harness, paynowChargeback({ orderId, paymentId }))).json().status).toBe("processed");
    expect((await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "won" }))).json().status).toBe("processed");
    const wallet = await db().kysely.selectFrom("wallets").select("points").where("uid", "=", "clamp_empty").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(0);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a shortfall is written off: a later refund of the same purchase does not collect it from points bought since", async () => {
    const orderId = await purchaseAndSpend("clamp_written_off", 70, 100);
    const paymentId = flakeId();
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    expect(await walletPoints(db(), "clamp_written_off")).toBe(0);
    await sendPaynow(harness, paynowOrder({ orderId: flakeId(), uid: "clamp_written_off", lines: [{ productId: "clamp_product", quantity: 1 }] }));
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 40 }));
    // The chargeback took the whole first purchase (30 taken, 70 written off); its refund adds nothing to that.
    expect(await walletPoints(db(), "clamp_written_off")).toBe(100);
  });

  it("a won chargeback cancels what was written off before it gives points back", async () => {
    const orderId = await purchaseAndSpend("clamp_won", 70, 100);
    const paymentId = flakeId();
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId }));
    await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 40 }));
    await sendPaynow(harness, paynowChargeback({ orderId, paymentId, closed: "won" }));
    // The refund still takes 40 of the 100 points: 30 were taken, so 10 stay written off and nothing comes back.
    expect(await walletPoints(db(), "clamp_won")).toBe(0);
    const rows = await db().kysely.selectFrom("webhook_reversals").select(["kind", "shortfall"]).where("purchase_ref", "=", `paynow:order:${orderId}`).execute();
    expect(rows.reduce((sum, row) => sum + row.shortfall, 0)).toBe(40 - 30);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

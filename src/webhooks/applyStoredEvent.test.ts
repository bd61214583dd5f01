import { expect, it } from "vitest";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, flakeId, NOW, paynowOrder, paynowRefund, sendPaynow, walletPoints, webhookHarness } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { withTransaction } from "../storage/withTransaction.js";
import { applyStoredEvent } from "./applyStoredEvent.js";

describeEachEngine("a stored event replays through the live path", (db) => {
  const harness = useWebhookHarness(db);

  const replay = (eventId: string) =>
    withTransaction(db(), async (trx) => {
      const row = await trx.selectFrom("webhook_events").selectAll().where("provider", "=", "paynow").where("event_id", "=", eventId).executeTakeFirstOrThrow();
      return applyStoredEvent(trx, row, { now: NOW, reversalPolicy: "allow_negative" });
    });

  it("replaying a processed event changes nothing but its attempt count", async () => {
    await catalogue(db(), "paynow", "replay_product", 30);
    const order = paynowOrder({ orderId: flakeId(), uid: "replay_user", lines: [{ productId: "replay_product", quantity: 1 }] });
    await sendPaynow(harness, order);
    const before = await tableCounts(db());
    expect((await replay(order.event_id)).status).toBe("processed");
    expect(await tableCounts(db())).toEqual(before);
    expect(await walletPoints(db(), "replay_user")).toBe(30);
    expect((await eventRow(db(), "paynow", order.event_id))!.attempts).toBe(2);
  });

  it("a failed event replayed after the catalogue is fixed is applied, and releases what waited for it", async () => {
    const orderId = flakeId();
    const order = paynowOrder({ orderId, uid: "replay_fixed", lines: [{ productId: "added_later", quantity: 2 }] });
    expect((await sendPaynow(harness, order)).json().status).toBe("failed");
    const refund = paynowRefund({ orderId, refundedMinor: 500 });
    expect((await sendPaynow(harness, refund)).json().status).toBe("parked");
    await catalogue(db(), "paynow", "added_later", 40);
    expect((await replay(order.event_id)).status).toBe("processed");
    expect(await walletPoints(db(), "replay_fixed")).toBe(0);
    expect((await eventRow(db(), "paynow", refund.event_id))!.status).toBe("processed");
    const entries = await db().kysely.selectFrom("ledger_entries").select(["kind", "amount"]).where("uid", "=", "replay_fixed").orderBy("id").execute();
    expect(entries).toEqual([
      { kind: "purchase", amount: 80 },
      { kind: "reversal", amount: -80 },
    ]);
  });
});

describeEachEngine("a delivery whose application throws is still stored and acknowledged", (db) => {
  it("is stored as failed internal_error, credits nothing, and applies once replayed after the fault is gone", async () => {
    const { sql } = await import("kysely");
    const harness = await webhookHarness(db());
    await catalogue(db(), "paynow", "fault_product", 10);
    // A real database fault while applying: the table the credit writes to is gone.
    await sql`ALTER TABLE webhook_purchases RENAME TO webhook_purchases_away`.execute(db().kysely);
    const order = paynowOrder({ orderId: flakeId(), uid: "fault_user", lines: [{ productId: "fault_product", quantity: 1 }] });
    const response = await sendPaynow(harness, order);
    await sql`ALTER TABLE webhook_purchases_away RENAME TO webhook_purchases`.execute(db().kysely);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe("failed");
    expect(await eventRow(db(), "paynow", order.event_id)).toMatchObject({ status: "failed", failure_reason: "internal_error" });
    expect(await walletPoints(db(), "fault_user")).toBeNull();

    const replayed = await withTransaction(db(), async (trx) => {
      const row = await trx.selectFrom("webhook_events").selectAll().where("event_id", "=", order.event_id).executeTakeFirstOrThrow();
      return applyStoredEvent(trx, row, { now: NOW, reversalPolicy: "allow_negative" });
    });
    expect(replayed.status).toBe("processed");
    expect(await walletPoints(db(), "fault_user")).toBe(10);
  });
});

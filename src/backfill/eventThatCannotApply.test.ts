import { beforeAll, expect, it } from "vitest";
import { backfillHarness, storeFailedEvent, type BackfillHarness } from "../../test/support/backfillKit.js";
import { receivedOrderRow } from "../../test/support/storedOrders.js";
import { allowEntriesFor, refuseEntriesFor } from "../../test/support/refuseEntries.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, flakeId, NOW, paynowOrder, paynowRefund, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";
import type { Db } from "../storage/openDatabase.js";

const DAY = "2026-01-01";
const POINTS_PER_UNIT = 7;
const replay = (extra: Record<string, unknown> = {}) => ({ type: "webhook_replay", startDate: DAY, endDate: DAY, ...extra });

/** A stored order that was received and never applied, as an outage leaves it. */
function receivedOrder(uid: string, quantity: number) {
  const order = paynowOrder({ orderId: flakeId(), uid, lines: [{ productId: "p_poison", quantity }] });
  return { uid, quantity, row: receivedOrderRow(order) };
}

async function errorRate(h: BackfillHarness): Promise<number> {
  const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
  const line = /^backfill_error_rate\{type="webhook_replay"\} (\S+)$/m.exec(metrics);
  if (!line) throw new Error("no backfill_error_rate line for webhook_replay");
  return Number(line[1]);
}

async function ledgerCount(db: Db): Promise<number> {
  const row = await db.kysely.selectFrom("ledger_entries").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

describeEachEngine("an event that cannot apply", (db) => {
  let h: BackfillHarness;
  // Twelve fixable orders of four users, with one order the database refuses in the middle.
  const fixable = Array.from({ length: 12 }, (_, index) => receivedOrder(`fix_user_${index % 4}`, 1 + (index % 3)));
  const poisoned = receivedOrder("poison_user", 2);
  const stored = [...fixable.slice(0, 6), poisoned, ...fixable.slice(6)];
  const expectedPoints = (uid: string) =>
    fixable.filter((order) => order.uid === uid).reduce((sum, order) => sum + order.quantity * POINTS_PER_UNIT, 0);

  beforeAll(async () => {
    h = await backfillHarness(db());
    await catalogue(db(), "paynow", "p_poison", POINTS_PER_UNIT);
    await db().kysely.insertInto("webhook_events").values(stored.map((order) => order.row)).execute();
    await refuseEntriesFor(db(), "poison_user");
  });

  it("a dry run lists the event that cannot apply, plans every other one, and ends its record", async () => {
    const before = await tableHashes(db(), ["data_migrations"]);
    const dry = await h.job(replay({ dryRun: true }));
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, status: "partial", scanned: stored.length, errors: 1, plannedEntries: fixable.length });
    expect(dry.json().errorSamples).toEqual([
      { eventId: poisoned.row.event_id, reason: "internal_error", detail: expect.stringContaining("refused by test trigger") },
    ]);
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
  });

  it("a real run applies every other event, records the one that cannot apply as failed with its reason, and ends", async () => {
    const run = await h.job(replay());
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ status: "partial", scanned: stored.length, processed: fixable.length, errors: 1 });
    expect(run.json().errorSamples).toEqual([
      { eventId: poisoned.row.event_id, reason: "internal_error", detail: expect.stringContaining("refused by test trigger") },
    ]);
    for (const uid of ["fix_user_0", "fix_user_1", "fix_user_2", "fix_user_3"]) {
      expect(await walletPoints(db(), uid)).toBe(expectedPoints(uid));
    }
    expect(await walletPoints(db(), "poison_user")).toBeNull();
    expect(await eventRow(db(), "paynow", poisoned.row.event_id)).toMatchObject({
      status: "failed",
      failure_reason: "internal_error",
      failure_detail: expect.stringContaining("refused by test trigger"),
    });
    expect(await errorRate(h)).toBe(1 / stored.length);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a second run tries again only the event that cannot apply and applies nothing twice", async () => {
    // A later run starts later: the error rate is the newest run's.
    h.clock.now = new Date(NOW.getTime() + 60_000);
    const entries = await ledgerCount(db());
    const again = await h.job(replay());
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: "partial", scanned: 1, processed: 0, errors: 1 });
    expect(await ledgerCount(db())).toBe(entries);
    expect(await walletPoints(db(), "fix_user_0")).toBe(expectedPoints("fix_user_0"));
    expect(await errorRate(h)).toBe(1);
  });

  it("once the database accepts it again, the next run applies it", async () => {
    await allowEntriesFor(db(), "poison_user");
    const last = await h.job(replay());
    expect(last.json()).toMatchObject({ status: "completed", scanned: 1, processed: 1, errors: 0 });
    expect(await walletPoints(db(), "poison_user")).toBe(poisoned.quantity * POINTS_PER_UNIT);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a reversal backfill reverses every other refund and records the one that cannot apply", async () => {
    h.clock.now = new Date("2026-01-02T10:00:00.000Z");
    const day = { startDate: "2026-01-02", endDate: "2026-01-02" };
    const orders = ["rev_ok_user", "rev_poison_user"].map((uid) => ({ uid, orderId: flakeId() }));
    for (const { uid, orderId } of orders) {
      await sendPaynow(h, paynowOrder({ orderId, uid, lines: [{ productId: "p_poison", quantity: 10 }], totalMinor: 1000 }));
    }
    const refunds = orders.map(({ orderId }) => paynowRefund({ orderId, refundedMinor: 400, amountMinor: 1000 }));
    for (const refund of refunds) await storeFailedEvent(db(), refund, h.clock.now);
    await refuseEntriesFor(db(), "rev_poison_user");
    try {
      const run = await h.job({ type: "reversal_backfill", ...day });
      expect(run.statusCode).toBe(200);
      expect(run.json()).toMatchObject({ status: "partial", scanned: 2, processed: 1, errors: 1 });
      expect(run.json().errorSamples).toEqual([
        { eventId: refunds[1]!.event_id, reason: "internal_error", detail: expect.stringContaining("refused by test trigger") },
      ]);
      // 70 points bought for 1000 minor units; 400 refunded takes back floor(70 * 400 / 1000).
      expect(await walletPoints(db(), "rev_ok_user")).toBe(70 - Math.floor((70 * 400) / 1000));
      expect(await walletPoints(db(), "rev_poison_user")).toBe(70);
    } finally {
      await allowEntriesFor(db(), "rev_poison_user");
      h.clock.now = NOW;
    }
  });
});

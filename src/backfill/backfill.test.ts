import { beforeAll, expect, it } from "vitest";
import { backfillHarness, storeFailedEvent, type BackfillHarness } from "../../test/support/backfillKit.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, flakeId, paynowChargeback, paynowOrder, paynowRefund, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";

const DAY = "2026-01-01";
const replay = (extra: Record<string, unknown> = {}) => ({ type: "webhook_replay", startDate: DAY, endDate: DAY, ...extra });
const reversals = (extra: Record<string, unknown> = {}) => ({ type: "reversal_backfill", startDate: DAY, endDate: DAY, ...extra });

describeEachEngine("backfill", (db) => {
  let h: BackfillHarness;
  beforeAll(async () => {
    h = await backfillHarness(db());
    await catalogue(db(), "paynow", "p_50", 50);
  });

  it("credits exactly once, after the product is added, the orders that failed for an unknown product; a second replay changes nothing", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "late_product_user", lines: [{ productId: "p_new", quantity: 2 }] });
    expect((await sendPaynow(h, order)).statusCode).toBe(200);
    expect(await eventRow(db(), "paynow", order.event_id)).toMatchObject({ status: "failed", failure_reason: "unknown_product" });
    await catalogue(db(), "paynow", "p_new", 30);

    const first = await h.job(replay());
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: "completed", dryRun: false, errors: 0 });
    expect(first.json().processed).toBeGreaterThanOrEqual(1);
    expect(await walletPoints(db(), "late_product_user")).toBe(60);
    expect(await eventRow(db(), "paynow", order.event_id)).toMatchObject({ status: "processed" });
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/^backfill_processed_events\{type="webhook_replay",outcome="processed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^backfill_error_rate\{type="webhook_replay"\} 0$/m);

    const before = await tableHashes(db(), ["data_migrations"]);
    const second = await h.job(replay());
    expect(second.json()).toMatchObject({ status: "completed", scanned: 0, processed: 0 });
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    expect(await walletPoints(db(), "late_product_user")).toBe(60);
  });

  it("a dry run plans every entry with a hash and leaves every other table byte-for-byte unchanged", async () => {
    const order = paynowOrder({ orderId: flakeId(), uid: "dry_user", lines: [{ productId: "p_dry", quantity: 1 }] });
    await sendPaynow(h, order);
    await catalogue(db(), "paynow", "p_dry", 70);
    const before = await tableHashes(db(), ["data_migrations"]);

    const dry = await h.job(replay({ dryRun: true }));
    expect(dry.statusCode).toBe(200);
    const plan = dry.json();
    expect(plan).toMatchObject({ dryRun: true, status: "completed", plannedEntries: 1 });
    expect(plan.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.planSample).toEqual([{ uid: "dry_user", kind: "purchase", amount: 70, key: expect.stringContaining(order.body.id) }]);
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);

    const applied = await h.job(replay({ planHash: plan.planHash }));
    expect(applied.statusCode).toBe(200);
    expect(await walletPoints(db(), "dry_user")).toBe(70);
  });

  it("refuses to apply a plan that changed since its dry run: 409 plan_changed, nothing applied", async () => {
    const first = paynowOrder({ orderId: flakeId(), uid: "plan_user", lines: [{ productId: "p_plan", quantity: 1 }] });
    await sendPaynow(h, first);
    await catalogue(db(), "paynow", "p_plan", 10);
    const dry = (await h.job(replay({ dryRun: true }))).json();
    const second = paynowOrder({ orderId: flakeId(), uid: "plan_user", lines: [{ productId: "p_plan2", quantity: 1 }] });
    await sendPaynow(h, second);
    await catalogue(db(), "paynow", "p_plan2", 20);

    const before = await tableHashes(db(), ["data_migrations"]);
    const refused = await h.job(replay({ planHash: dry.planHash }));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: "plan_changed", expected: dry.planHash });
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    await h.job(replay());
    expect(await walletPoints(db(), "plan_user")).toBe(30);
  });

  it("reverses a refund whose live processing failed, partial refunds by the live rounding rule", async () => {
    const orderId = flakeId();
    await sendPaynow(h, paynowOrder({ orderId, uid: "refund_user", lines: [{ productId: "p_50", quantity: 1 }], totalMinor: 500 }));
    expect(await walletPoints(db(), "refund_user")).toBe(50);
    await storeFailedEvent(db(), paynowRefund({ orderId, refundedMinor: 130 }));
    await storeFailedEvent(db(), paynowRefund({ orderId, refundedMinor: 170 }));

    // The same two refunds delivered live to a twin purchase: the backfill must match them.
    const twinId = flakeId();
    await sendPaynow(h, paynowOrder({ orderId: twinId, uid: "refund_twin", lines: [{ productId: "p_50", quantity: 1 }], totalMinor: 500 }));
    await sendPaynow(h, paynowRefund({ orderId: twinId, refundedMinor: 130 }));
    await sendPaynow(h, paynowRefund({ orderId: twinId, refundedMinor: 170 }));

    const run = await h.job(reversals());
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ status: "completed", errors: 0 });
    expect(run.json().processed).toBeGreaterThanOrEqual(2);
    expect(await walletPoints(db(), "refund_user")).toBe(await walletPoints(db(), "refund_twin"));
    expect(await walletPoints(db(), "refund_user")).toBe(50 - Math.floor((50 * 300) / 500));

    const before = await tableHashes(db(), ["data_migrations"]);
    const again = await h.job(reversals());
    expect(again.json()).toMatchObject({ processed: 0, errors: 0 });
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("skips a processed won chargeback that restored nothing: it was applied, not missed", async () => {
    const orderId = flakeId();
    const paymentId = flakeId();
    await sendPaynow(h, paynowOrder({ orderId, uid: "won_first_user", lines: [{ productId: "p_50", quantity: 1 }], totalMinor: 500 }));
    // Won before its chargeback: recorded, restoring nothing; the chargeback then takes nothing.
    await sendPaynow(h, paynowChargeback({ orderId, paymentId, closed: "won" }));
    await sendPaynow(h, paynowChargeback({ orderId, paymentId }));
    expect(await walletPoints(db(), "won_first_user")).toBe(50);
    const run = await h.job(reversals());
    expect(run.json()).toMatchObject({ status: "completed", processed: 0, errors: 0 });
    expect(await walletPoints(db(), "won_first_user")).toBe(50);
  });

  it("records a refund whose purchase never arrived as an error on the run, not a crash", async () => {
    await storeFailedEvent(db(), paynowRefund({ orderId: flakeId(), refundedMinor: 100 }));
    const run = await h.job(reversals());
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ status: "partial", errors: 1 });
    expect(run.json().errorSamples[0]).toMatchObject({ reason: "original_not_found" });
  });

  it("scans exactly maxEvents events, and reads progress back from GET /api/migrations/:id", async () => {
    // A day of its own, so events left by the other rules stay out of the range.
    h.clock.now = new Date("2026-01-05T10:00:00.000Z");
    const day = { startDate: "2026-01-05", endDate: "2026-01-05" };
    for (let index = 0; index < 5; index++) {
      await sendPaynow(h, paynowOrder({ orderId: flakeId(), uid: `max_${index}`, lines: [{ productId: "p_max", quantity: 1 }] }));
    }
    await catalogue(db(), "paynow", "p_max", 5);
    const limited = (await h.job(replay({ ...day, maxEvents: 3 }))).json();
    expect(limited).toMatchObject({ scanned: 3, processed: 3, status: "partial" });
    const read = await h.app.inject({ method: "GET", url: `/api/migrations/${limited.id}`, headers: h.admin });
    expect(read.json()).toMatchObject({ id: limited.id, scanned: 3, cursor: expect.any(Number) });
    const rest = (await h.job(replay(day))).json();
    expect(rest).toMatchObject({ scanned: 2, processed: 2, status: "completed" });
    h.clock.now = new Date("2026-01-01T00:00:10.000Z");
  });

  it("runs one backfill of a type at a time: 409 backfill_running names the running one", async () => {
    await db()
      .kysely.insertInto("data_migrations")
      .values({ id: "bf_running_elsewhere", type: "webhook_replay", params: "{}", dry_run: 0, status: "running", started_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" })
      .execute();
    try {
      const refused = await h.job(replay());
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatchObject({ code: "backfill_running", migrationId: "bf_running_elsewhere" });
      expect((await h.job(reversals())).statusCode).toBe(200);
    } finally {
      await db().kysely.updateTable("data_migrations").set({ status: "cancelled" }).where("id", "=", "bf_running_elsewhere").execute();
    }
  });
});

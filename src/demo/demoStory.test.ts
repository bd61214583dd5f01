import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { backfillDeps } from "../backfill/backfillDeps.js";
import { backfillJob } from "../backfill/backfillJob.js";
import type { BackfillType } from "../backfill/BackfillRequest.js";
import { setCatalogueProduct } from "../catalogue/setCatalogueProduct.js";
import { loadConfig, type Config } from "../config.js";
import { reconcileJob } from "../reconcile/reconcileJob.js";
import type { Db } from "../storage/openDatabase.js";
import { seedDemo, type DemoSummary } from "./seedDemo.js";

/**
 * The README's walk-through of the demo, run through the functions its commands call:
 * the first reconciliation finds exactly the planted drift, adding the missing product
 * and replaying repairs the failed delivery, the reversal backfill takes back the
 * refunded points, and every wallet then equals its ledger.
 */
const NOW = new Date("2026-03-10T12:00:00.000Z");
const DAY = NOW.toISOString().slice(0, 10);
const USERS = 12;

async function points(db: Db, uid: string): Promise<number> {
  return (await db.kysely.selectFrom("wallets").select("points").where("uid", "=", uid).executeTakeFirstOrThrow()).points;
}

async function backfill(db: Db, config: Config, type: BackfillType) {
  const started = await backfillJob(backfillDeps(db, config, () => NOW), config, { type, startDate: DAY, endDate: DAY, dryRun: false });
  if (started.outcome !== "started") throw new Error(`backfill refused: ${started.outcome}`);
  return started.done;
}

for (const engine of ENGINES.filter((name) => name === "sqlite")) {
  describe(`the demo's story [${engine}]`, () => {
    let database: TestDatabase;
    let config: Config;
    let demo: DemoSummary;
    const db = () => database.db;

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      config = loadConfig({ DATABASE_URL: database.url });
      demo = await seedDemo(db(), { users: USERS, now: NOW, config });
    });
    afterAll(() => database.drop());

    it(`the first reconcile finds exactly the hand-edited wallet and heals it [${engine}]`, async () => {
      const { handEdit } = demo.planted;
      const drifts = (await invariantViolations(db())).map((row) => ({ uid: row.uid, drift: row.points - row.sum }));
      expect(drifts).toEqual([{ uid: handEdit.uid, drift: handEdit.points }]);

      const outcome = await reconcileJob(db(), config, { date: DAY, now: () => NOW });
      if (outcome.outcome !== "completed") throw new Error(outcome.outcome);
      expect(outcome.run).toMatchObject({ usersChecked: USERS, violations: 1, refused: 0, adjustmentAbsTotal: handEdit.points });
      const lines = await db().kysely.selectFrom("reconciliation_user_reports").select(["uid", "delta", "action"]).where("delta", "!=", 0).execute();
      expect(lines).toEqual([{ uid: handEdit.uid, delta: handEdit.points, action: "adjusted" }]);
      expect(await invariantViolations(db())).toEqual([]);
    });

    it(`the failed delivery names the missing product; adding it and replaying credits the buyer once [${engine}]`, async () => {
      const { failedDelivery } = demo.planted;
      const failed = await db().kysely.selectFrom("webhook_events").select(["event_id", "failure_reason"]).where("status", "in", ["failed", "parked", "received"]).execute();
      expect(failed).toEqual([{ event_id: failedDelivery.eventId, failure_reason: "unknown_product" }]);

      const refused = await backfill(db(), config, "webhook_replay");
      expect(refused).toMatchObject({ status: "partial", processed: 0, errors: 1, errorSamples: [{ eventId: failedDelivery.eventId, reason: "unknown_product" }] });
      const before = await points(db(), failedDelivery.uid);
      const { product } = failedDelivery;
      await setCatalogueProduct(db(), { provider: "paynow", productId: product.productId, pointsPerUnit: product.points, name: product.name, actor: "test", now: NOW });
      expect(await backfill(db(), config, "webhook_replay")).toMatchObject({ status: "completed", scanned: 1, processed: 1, errors: 0 });
      expect(await points(db(), failedDelivery.uid)).toBe(before + product.points * failedDelivery.quantity);
      expect(await backfill(db(), config, "webhook_replay")).toMatchObject({ scanned: 0, processed: 0 });
      expect(await points(db(), failedDelivery.uid)).toBe(before + product.points * failedDelivery.quantity);
    });

    it(`the reversal backfill takes back the refund the old handler left, and only that one [${engine}]`, async () => {
      const { unreversedRefund } = demo.planted;
      const before = await points(db(), unreversedRefund.uid);
      expect(before).toBeGreaterThanOrEqual(unreversedRefund.points);
      const run = await backfill(db(), config, "reversal_backfill");
      // The ordinary demo refund was reversed when it arrived: skipped, not applied twice.
      expect(run).toMatchObject({ status: "completed", scanned: demo.refunds + 1, processed: 1, skipped: demo.refunds, errors: 0 });
      expect(await points(db(), unreversedRefund.uid)).toBe(before - unreversedRefund.points);
      const reversal = await db().kysely.selectFrom("ledger_entries").select(["amount"]).where("uid", "=", unreversedRefund.uid).where("kind", "=", "reversal").execute();
      expect(reversal).toEqual([{ amount: -unreversedRefund.points }]);
      expect(await backfill(db(), config, "reversal_backfill")).toMatchObject({ processed: 0, skipped: demo.refunds + 1 });
    });

    it(`afterwards every wallet equals its ledger and a new reconcile finds nothing [${engine}]`, async () => {
      expect(await invariantViolations(db())).toEqual([]);
      const again = await reconcileJob(db(), config, { date: DAY, now: () => NOW });
      if (again.outcome !== "completed") throw new Error(again.outcome);
      expect(again.run).toMatchObject({ usersChecked: USERS, violations: 0, adjustmentAbsTotal: 0 });
    });
  });
}

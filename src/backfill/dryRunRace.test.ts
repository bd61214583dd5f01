import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, NOW, paynowOrder, walletPoints } from "../../test/support/webhookFixtures.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { newBackfillRunId } from "./backfillDeps.js";
import { startBackfill, type BackfillDeps } from "./startBackfill.js";

/**
 * PostgreSQL only: a dry run reads one REPEATABLE READ snapshot there, so a live write
 * committed during it can force a serialization failure. SQLite cannot race this way:
 * the dry run holds its only write lock, and every live write waits for it.
 */
for (const engine of ENGINES.filter((name) => name === "postgres")) {
  describe(`a dry run racing live traffic [${engine}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
    });
    afterAll(async () => {
      await database.drop();
    });

    /** Resolves once some transaction of this database waits for a row lock another holds. */
    async function someoneWaitsForALock(): Promise<void> {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const { rows } = await sql<{ waiting: string }>`select count(*) as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(database.db.kysely);
        if (Number(rows[0]!.waiting) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error("the dry run never waited for the live write's lock");
    }

    it("a dry run that a live write forces to roll back (serialization failure) plans again and ends completed", async () => {
      const db = database.db;
      await catalogue(db, "paynow", "p_race", 5);
      const post = (key: string, amount: number) =>
        withTransaction(db, (trx) => postEntry(trx, { uid: "race_user", kind: "admin_adjustment", amount, idempotencyKey: key, source: "test", now: NOW }));
      await post("race-opening", 10);
      const order = paynowOrder({ orderId: flakeId(), uid: "race_user", lines: [{ productId: "p_race", quantity: 1 }] });
      await db.kysely
        .insertInto("webhook_events")
        .values({ provider: "paynow", event_id: order.event_id, event_type: order.event_type, status: "received", raw_body: Buffer.from(JSON.stringify(order)), headers: "{}", livemode: null, received_at: NOW.toISOString() })
        .execute();
      const deps: BackfillDeps = { db, now: () => NOW, newId: () => newBackfillRunId(NOW), reversalPolicy: "allow_negative", batchSize: 500 };

      // A live adjustment holds race_user's wallet while the dry run takes its snapshot and
      // reaches the same wallet; it commits once the dry run waits for it.
      let dryRun: Promise<unknown> | undefined;
      await db.kysely.transaction().execute(async (trx) => {
        const live = await postEntry(trx, { uid: "race_user", kind: "admin_adjustment", amount: 4, idempotencyKey: "race-live", source: "test", now: NOW });
        expect(live.outcome).toBe("posted");
        dryRun = startBackfill(deps, { type: "webhook_replay", startDate: "2026-01-01", endDate: "2026-01-01", dryRun: true, maxEvents: 1000, planHash: null }).then(
          (started): Promise<unknown> => (started.outcome === "started" ? started.done : Promise.resolve(started)),
        );
        await someoneWaitsForALock();
      });

      expect(await dryRun).toMatchObject({
        dryRun: true,
        status: "completed",
        failure: null,
        errors: 0,
        plannedEntries: 1,
        planSample: [{ uid: "race_user", kind: "purchase", amount: 5 }],
      });
      expect(await walletPoints(db, "race_user")).toBe(10 + 4);
      expect(await invariantViolations(db)).toEqual([]);
    });
  });
}

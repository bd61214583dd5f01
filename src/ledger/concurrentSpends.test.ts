import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import { spendPoints } from "./spendPoints.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

for (const engine of ENGINES) {
  describe(`concurrent spends [${engine}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      // Twenty real connections on PostgreSQL, so the spends genuinely race each other.
      database = await createTestDatabase(engine, { poolSize: 20 });
    });
    afterAll(() => database.drop());

    it("1,000 spends of 1, 100 racing at a time, against 500 points leave exactly 0 points and 500 spend entries", async () => {
      const db = database.db;
      await withTransaction(db, (trx) =>
        postEntry(trx, { uid: "racer", kind: "purchase", amount: 500, idempotencyKey: "race-buy", source: "test", now: NOW }),
      );
      // 100 in flight, five times the connections, so they genuinely race for the wallet;
      // not all 1,000 at once, which on a loaded machine left the last ones waiting past
      // the pool's 10 s connection timeout.
      const results: Awaited<ReturnType<typeof spendPoints>>[] = [];
      let next = 0;
      const racer = async () => {
        while (next < 1000) {
          const index = next++;
          results.push(await spendPoints(db, { uid: "racer", points: 1, idempotencyKey: `race-${index}`, now: NOW }));
        }
      };
      await Promise.all(Array.from({ length: 100 }, racer));
      const outcomes = results.map((result) => (result.kind === "fresh" ? result.outcome.outcome : result.kind));
      expect(outcomes.filter((outcome) => outcome === "posted")).toHaveLength(500);
      expect(outcomes.filter((outcome) => outcome === "insufficient_points")).toHaveLength(500);

      const wallet = await db.kysely.selectFrom("wallets").selectAll().where("uid", "=", "racer").executeTakeFirstOrThrow();
      expect(wallet.points).toBe(0);
      const spends = await db.kysely
        .selectFrom("ledger_entries")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("uid", "=", "racer")
        .where("kind", "=", "spend")
        .executeTakeFirstOrThrow();
      expect(Number(spends.count)).toBe(500);
      expect(await invariantViolations(db)).toEqual([]);
    });

    it("the same Idempotency-Key sent 50 times at once spends once", async () => {
      const db = database.db;
      await withTransaction(db, (trx) =>
        postEntry(trx, { uid: "twin", kind: "purchase", amount: 100, idempotencyKey: "twin-buy", source: "test", now: NOW }),
      );
      const results = await Promise.all(
        Array.from({ length: 50 }, () => spendPoints(db, { uid: "twin", points: 7, idempotencyKey: "twin-once", now: NOW })),
      );
      expect(results.filter((result) => result.kind === "fresh")).toHaveLength(1);
      expect(results.filter((result) => result.kind === "replayed")).toHaveLength(49);
      const wallet = await db.kysely.selectFrom("wallets").selectAll().where("uid", "=", "twin").executeTakeFirstOrThrow();
      expect(wallet.points).toBe(93);
    });
  });
}

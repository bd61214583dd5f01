import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { spendPoints } from "../ledger/spendPoints.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { runReconciliation } from "./runReconciliation.js";
import { verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-05-20T02:00:00.000Z");
const now = () => NOW;
const USERS = 60;
const PLANTED: Record<string, number> = { w_3: 17, w_19: -5, w_33: 1, w_47: -250, w_58: 9 };

async function seed(db: Db): Promise<void> {
  for (let index = 0; index < USERS; index++) {
    await withTransaction(db, (trx) =>
      postEntry(trx, { uid: `w_${index}`, kind: "purchase", amount: 1000, idempotencyKey: `seed-${index}`, source: "test", now: NOW }),
    );
  }
  for (const [uid, drift] of Object.entries(PLANTED)) {
    await sql`UPDATE wallets SET points = points + ${drift} WHERE uid = ${uid}`.execute(db.kysely);
  }
}

/** Purchases and spends on every user from a second connection, until `stop` says so. */
async function traffic(db: Db, worker: number, stop: { done: boolean }): Promise<number> {
  let count = 0;
  while (!stop.done) {
    const uid = `w_${(count * 7 + worker * 13) % USERS}`;
    const key = `t-${worker}-${count}`;
    if (count % 2 === 0) {
      await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount: 3 + (count % 11), idempotencyKey: key, source: "test", now: NOW }));
    } else {
      await spendPoints(db, { uid, points: 1 + (count % 5), idempotencyKey: key, now: NOW });
    }
    count += 1;
    // Requests reach a server as I/O events, one turn of the event loop each.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return count;
}

/**
 * PostgreSQL: a second pool, as a second instance would have. SQLite: the same handle,
 * because better-sqlite3 waits for a lock synchronously, so two write connections in
 * one process would block the event loop that the lock holder needs to finish; the
 * statements of the two sides still interleave between transactions.
 */
function sharedOrSecondHandle(engine: string, database: TestDatabase): Db {
  return engine === "postgres" ? openDatabase(database.url, { poolSize: 4 }) : database.db;
}

for (const engine of ENGINES) {
  describe(`reconciliation under live purchases and spends [${engine}]`, () => {
    let database: TestDatabase;
    let writer: Db;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      writer = sharedOrSecondHandle(engine, database);
      await seed(database.db);
    });
    afterAll(async () => {
      if (writer !== database.db) await writer.close();
      await database.drop();
    });

    it("heals exactly the planted drifts and nothing else while entries flow", async () => {
      const stop = { done: false };
      const workers = [0, 1, 2].map((worker) => traffic(writer, worker, stop));
      const runs = [];
      try {
        for (const date of ["2026-05-17", "2026-05-18", "2026-05-19"]) {
          runs.push(await runReconciliation(database.db, { date, policy: "adjust_ledger", chunkUsers: 5, mode: "start", now }));
        }
      } finally {
        stop.done = true;
      }
      const posted = (await Promise.all(workers)).reduce((sum, count) => sum + count, 0);
      expect(posted).toBeGreaterThan(0);
      const adjustments = await database.db.kysely
        .selectFrom("ledger_entries")
        .select(["uid", "amount"])
        .where("kind", "=", "reconcile_adjustment")
        .orderBy("uid")
        .execute();
      expect(Object.fromEntries(adjustments.map((entry) => [entry.uid, entry.amount]))).toEqual(PLANTED);
      expect(adjustments).toHaveLength(Object.keys(PLANTED).length);
      expect(runs.map((run) => (run.outcome === "completed" ? run.run.violations : -1))).toEqual([5, 0, 0]);
      expect(await invariantViolations(database.db)).toEqual([]);
      expect((await verifyReports(database.db.kysely)).problems).toEqual([]);
    });
  });

  describe(`two reconcilers share one run [${engine}]`, () => {
    let database: TestDatabase;
    let second: Db;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      second = sharedOrSecondHandle(engine, database);
      for (let index = 0; index < 200; index++) {
        await withTransaction(database.db, (trx) =>
          postEntry(trx, { uid: `s_${String(index).padStart(3, "0")}`, kind: "purchase", amount: 50, idempotencyKey: `s-${index}`, source: "test", now: NOW }),
        );
      }
      await sql`UPDATE wallets SET points = points + 2 WHERE uid LIKE 's_%0'`.execute(database.db.kysely);
    });
    afterAll(async () => {
      if (second !== database.db) await second.close();
      await database.drop();
    });

    it("split the chunks between them and heal every user once", async () => {
      const request = (holder: string) => ({ date: "2026-05-19", policy: "adjust_ledger" as const, chunkUsers: 5, mode: "join" as const, now, holder });
      const outcomes = await Promise.all([
        runReconciliation(database.db, request("instance-a")),
        runReconciliation(second, request("instance-b")),
      ]);
      expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(expect.arrayContaining(["completed"]));
      const runs = await database.db.kysely.selectFrom("reconciliation_runs").selectAll().execute();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: "completed", users_checked: 200, violations: 20, adjustment_abs_total: 40 });
      const claims = await database.db.kysely
        .selectFrom("reconciliation_chunks")
        .select(["claimed_by", (eb) => eb.fn.countAll<number>().as("chunks")])
        .groupBy("claimed_by")
        .execute();
      if (engine === "postgres") expect(claims.map((claim) => claim.claimed_by).sort()).toEqual(["instance-a", "instance-b"]);
      const adjustments = await database.db.kysely
        .selectFrom("ledger_entries")
        .select(["uid", (eb) => eb.fn.countAll<number>().as("n")])
        .where("kind", "=", "reconcile_adjustment")
        .groupBy("uid")
        .execute();
      expect(adjustments).toHaveLength(20);
      expect(adjustments.every((row) => Number(row.n) === 1)).toBe(true);
      expect(await invariantViolations(database.db)).toEqual([]);
      expect((await verifyReports(database.db.kysely)).problems).toEqual([]);
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { insertEvents, receivedOrderRows } from "../../test/support/storedOrders.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue } from "../../test/support/webhookFixtures.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { backfillDeps } from "./backfillDeps.js";
import { BACKFILL_CACHE_KIB } from "./guardRun.js";
import { startBackfill, type BackfillDeps } from "./startBackfill.js";

const DAY = "2026-01-01";
/** The page cache the server's connection was opened with, below the backfill's. */
const SERVING_KIB = 4096;
const replay = (maxEvents: number) => ({ type: "webhook_replay" as const, startDate: DAY, endDate: DAY, dryRun: false, maxEvents, planHash: null });

describe("a backfill run's page cache [sqlite]", () => {
  let database: TestDatabase;
  let db: Db;
  const cacheSize = () => db.sqlite!.pragma("cache_size", { simple: true });
  const deps = (onProgress: BackfillDeps["onProgress"]) =>
    backfillDeps(db, loadConfig({ DATABASE_URL: database.url, BACKFILL_BATCH_SIZE: "20" }), () => new Date(), onProgress);

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    // The connection the run writes through, as a server opened with a cache size of its own has it.
    db = openDatabase(database.url, { writerThread: false, cacheKiB: SERVING_KIB });
    await catalogue(db, "paynow", "p_cache", 10);
    await insertEvents(db, receivedOrderRows({ count: 100, product: "p_cache", prefix: "cache" }));
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it("runs with the backfill's cache and leaves the connection with its configured cache once it ends", async () => {
    expect(cacheSize()).toBe(-SERVING_KIB);
    const seen: unknown[] = [];
    const started = await startBackfill(
      deps(() => seen.push(cacheSize())),
      replay(60),
    );
    if (started.outcome !== "started") throw new Error(started.outcome);
    const record = await started.done;
    expect(record).toMatchObject({ status: "partial", processed: 60 });
    expect(seen).toEqual([-BACKFILL_CACHE_KIB, -BACKFILL_CACHE_KIB, -BACKFILL_CACHE_KIB]);
    expect(cacheSize()).toBe(-SERVING_KIB);
  });

  it("leaves the configured cache after a run that failed half-way, too", async () => {
    const seen: unknown[] = [];
    const started = await startBackfill(
      deps(() => {
        seen.push(cacheSize());
        throw new Error("the progress display broke");
      }),
      replay(40),
    );
    if (started.outcome !== "started") throw new Error(started.outcome);
    const record = await started.done;
    expect(record).toMatchObject({ status: "failed", processed: 20, failure: { reason: "run_failed" } });
    expect(seen).toEqual([-BACKFILL_CACHE_KIB]);
    expect(cacheSize()).toBe(-SERVING_KIB);
  });
});

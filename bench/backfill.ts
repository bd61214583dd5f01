import { performance } from "node:perf_hooks";
import { backfillDeps } from "../src/backfill/backfillDeps.js";
import { startBackfill } from "../src/backfill/startBackfill.js";
import { loadConfig } from "../src/config.js";
import { invariantViolations } from "../test/support/testDatabase.js";
import { createTestDatabase, type TestDatabase } from "../test/support/testDatabase.js";
import { insertEvents, receivedOrderRows } from "../test/support/storedOrders.js";
import { catalogue } from "../test/support/webhookFixtures.js";
import { recordBenchmark } from "./recordBenchmark.js";

/**
 * Replay of stored, never-applied PayNow orders through the live path, on each engine.
 * BENCH_EVENTS (default 1,000,000) sets the size, BENCH_EVENTS_POSTGRES / _SQLITE one
 * engine's; BENCH_ENGINES (default sqlite,postgres) which engines run.
 */
const DEFAULT_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const eventsFor = (engine: "sqlite" | "postgres") => Number(process.env[`BENCH_EVENTS_${engine.toUpperCase()}`] ?? DEFAULT_EVENTS);
const ENGINES = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const USERS = 50_000;

async function seed(database: TestDatabase, EVENTS: number): Promise<void> {
  await catalogue(database.db, "paynow", "p_bench", 10);
  const chunk = 2_000;
  for (let offset = 0; offset < EVENTS; offset += chunk) {
    const rows = receivedOrderRows({ count: Math.min(chunk, EVENTS - offset), offset, product: "p_bench", prefix: "9", users: USERS });
    await insertEvents(database.db, rows);
  }
}

async function measure(engine: "sqlite" | "postgres") {
  const EVENTS = eventsFor(engine);
  const database = await createTestDatabase(engine);
  try {
    const seedStart = performance.now();
    await seed(database, EVENTS);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const config = loadConfig({ DATABASE_URL: database.url, BACKFILL_BATCH_SIZE: String(BATCH), BACKFILL_MAX_EVENTS: String(EVENTS) });
    const start = performance.now();
    const started = await startBackfill(backfillDeps(database.db, config, () => new Date()), {
      type: "webhook_replay",
      startDate: "2026-01-01",
      endDate: "2026-01-01",
      dryRun: false,
      maxEvents: EVENTS,
      planHash: null,
    });
    if (started.outcome !== "started") throw new Error(started.outcome);
    const record = await started.done;
    const seconds = (performance.now() - start) / 1000;
    const violations = (await invariantViolations(database.db)).length;
    if (record.processed !== EVENTS || violations !== 0) {
      throw new Error(`replay incomplete: ${JSON.stringify({ status: record.status, processed: record.processed, violations })}`);
    }
    return { engine, events: EVENTS, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(EVENTS / seconds), seedSeconds: Number(seedSeconds.toFixed(1)), processed: record.processed, violations };
  } finally {
    await database.drop();
  }
}

const results = [];
for (const engine of ENGINES) results.push(await measure(engine));
recordBenchmark("backfill", { batchSize: BATCH, results }, [
  "Replays stored PayNow orders (never applied) through `applyStoredEvents`, the live path (set-based, as a group commit of deliveries), in batches that commit with the migration record's cursor; checks every event was processed and every wallet equals its entries. Target: ≥ 5,000 events/s on SQLite.",
]);

import { performance } from "node:perf_hooks";
import { postgresTemplate } from "../test/support/postgresTemplate.js";
import { sqliteTemplate } from "../test/support/sqliteTemplate.js";
import { createTestDatabase, PG_ADMIN_URL } from "../test/support/testDatabase.js";
import { migrate } from "../src/storage/migrate.js";
import type { DialectName } from "../src/storage/openDatabase.js";
import { recordBenchmark } from "./recordBenchmark.js";

/**
 * What a test pays for a migrated database: migrating a blank one (the old way) against
 * cloning the migrated template (a file copy on SQLite, CREATE DATABASE … TEMPLATE on
 * PostgreSQL). Each measures creation and opening only, dropped afterwards; the first
 * template build is made before timing starts. Bounded: RUNS of each, a few seconds.
 */
const RUNS = Number(process.env.RECKON_BENCH_RUNS ?? 7);

type Way = "blank" | "migrate" | "template";

/** Time to a database ready for a test: created (blank), created and migrated, or cloned. */
async function timeOnce(engine: DialectName, way: Way): Promise<number> {
  const started = performance.now();
  const database = await createTestDatabase(engine, { migrateAs: way === "template" ? "test" : null, poolSize: 1 });
  if (way === "migrate") await migrate(database.db, "test");
  const elapsedMs = performance.now() - started;
  await database.drop();
  return elapsedMs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]! * 10) / 10;
}

await sqliteTemplate();
await postgresTemplate(PG_ADMIN_URL);
const ways: Way[] = ["blank", "migrate", "template"];
const times = new Map<string, number[]>();
for (let run = 0; run < RUNS; run += 1) {
  // The ways take turns, so a burst of load on this shared machine falls on all of them.
  for (const engine of ["sqlite", "postgres"] as const) {
    for (const way of ways) {
      const key = `${engine}_${way}_ms_median`;
      times.set(key, [...(times.get(key) ?? []), await timeOnce(engine, way)]);
    }
  }
}
const figures: Record<string, number> = { runs: RUNS };
for (const [key, values] of times) figures[key] = median(values);
recordBenchmark("testdb", figures, [
  "Median time for a test to get its database: created blank (no migrations), created and " +
    "migrated (the old way), or cloned from the template migrated once (`test/support/testDatabase.ts`: " +
    "a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL). On PostgreSQL both ways are " +
    "dominated by CREATE DATABASE itself (it writes the new database through the WAL); the template " +
    "keeps the cost from growing with every migration added.",
]);

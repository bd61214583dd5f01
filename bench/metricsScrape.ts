import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { sql } from "kysely";
import { Registry } from "prom-client";
import { registry } from "../src/ops/metrics.js";
import { readStoredState } from "../src/ops/readStoredState.js";
import { STORED_STATE_CACHE_MS, storedStateMetrics } from "../src/ops/storedStateMetrics.js";
import { runReconciliation } from "../src/reconcile/runReconciliation.js";
import { openDatabase, type Db } from "../src/storage/openDatabase.js";
import { recordBenchmark } from "./recordBenchmark.js";
import { scratchDatabase } from "./scratchDatabase.js";

/**
 * `npm run bench:metrics`: the cost of `GET /metrics` on a 100k-user database. Builds
 * RECKON_BENCH_USERS users (default 100000) with 5 entries each, reconciles them (100k
 * report lines, 1,000 planted drifts), stores 100k webhook events of which 1,000 failed
 * and 1,000 parked, and 50 backfill records; then times scrapes of the merged registry:
 * the first (it also reads the run's top deltas, once per run), ones whose cache had
 * expired (one stored-state read each), and cached ones (the 5-second cache answering).
 */
const env = process.env;
const users = Number(env.RECKON_BENCH_USERS ?? 100_000);
const engines = (env.RECKON_BENCH_ENGINES ?? "sqlite,postgres").split(",");
const EVENTS = 100_000;
const SCRAPES = 30;

/** 100k events: every 100th failed (three reasons in turn), every 100th from the 50th parked, the rest processed. */
async function storeEvents(db: Db): Promise<void> {
  const status = (n: string) => `CASE WHEN ${n} % 100 = 0 THEN 'failed' WHEN ${n} % 100 = 50 THEN 'parked' ELSE 'processed' END`;
  const reason = (n: string) => `CASE WHEN ${n} % 100 = 0 THEN (CASE ${n} % 3 WHEN 0 THEN 'unknown_product' WHEN 1 THEN 'unknown_user' ELSE 'internal_error' END) END`;
  if (db.dialect === "sqlite") {
    db.sqlite!.exec(`WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${EVENTS})
      INSERT INTO webhook_events (provider, event_id, event_type, status, failure_reason, raw_body, headers, received_at)
      SELECT CASE n % 2 WHEN 0 THEN 'paynow' ELSE 'stripe' END, printf('e%07d', n), 'ON_ORDER_COMPLETED', ${status("n")}, ${reason("n")}, x'7b7d', '{}',
        strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (n % 86400) || ' seconds') FROM seq; ANALYZE;`);
  } else {
    await sql.raw(`INSERT INTO webhook_events (provider, event_id, event_type, status, failure_reason, raw_body, headers, received_at)
      SELECT CASE n % 2 WHEN 0 THEN 'paynow' ELSE 'stripe' END, 'e' || lpad(n::text, 7, '0'), 'ON_ORDER_COMPLETED', ${status("n")}, ${reason("n")}, '\\x7b7d'::bytea, '{}',
        timestamptz '2026-01-01T00:00:00Z' + (n % 86400) * interval '1 second' FROM generate_series(1, ${EVENTS}) n`).execute(db.kysely);
    await sql`ANALYZE`.execute(db.kysely);
  }
}

async function storeMigrations(db: Db): Promise<void> {
  for (let index = 0; index < 50; index++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString();
    await db.kysely
      .insertInto("data_migrations")
      .values({
        id: `bf_20260101T00${String(index).padStart(2, "0")}00_0000beef`,
        type: index % 2 === 0 ? "webhook_replay" : "reversal_backfill",
        params: "{}",
        dry_run: index % 5 === 0 ? 1 : 0,
        status: "completed",
        scanned: 1000,
        processed: 990,
        skipped: 5,
        errors: 5,
        started_at: at,
        updated_at: at,
        finished_at: at,
      })
      .execute();
  }
}

function milliseconds(samples: number[]): { medianMs: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return { medianMs: round(sorted[Math.floor(sorted.length / 2)]!), maxMs: round(sorted[sorted.length - 1]!) };
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function benchEngine(engine: string): Promise<Record<string, unknown>> {
  const { url, drop: cleanup } = await scratchDatabase(engine, `reckon_bench_metrics_${process.pid}`);
  try {
    execFileSync(process.execPath, ["--import", "tsx", new URL("./reconcile/buildDataset.ts", import.meta.url).pathname, url, String(users), "5"], { stdio: ["ignore", "ignore", "inherit"] });
    const db = openDatabase(url, { poolSize: 4 });
    try {
      const now = () => new Date("2026-01-02T02:00:00.000Z");
      const run = await runReconciliation(db, { date: "2026-01-02", policy: "adjust_ledger", chunkUsers: 5000, mode: "start", now });
      await storeEvents(db);
      await storeMigrations(db);
      // The clock of the cache: moved past the cache time before each "read" scrape, so
      // each of those does exactly one stored-state read, as the first scrape after 5 s does.
      const clock = { ms: Date.now() };
      const scrape = Registry.merge([registry, storedStateMetrics(db, { nowMs: () => clock.ms })]);
      const first = await time(() => scrape.metrics());
      const reads: number[] = [];
      const scrapes: number[] = [];
      const cachedScrapes: number[] = [];
      for (let index = 0; index < SCRAPES; index++) {
        reads.push(await time(() => readStoredState(db.kysely, clock.ms)));
        clock.ms += STORED_STATE_CACHE_MS;
        scrapes.push(await time(() => scrape.metrics()));
        cachedScrapes.push(await time(() => scrape.metrics()));
      }
      const text = await scrape.metrics();
      return {
        violations: run.outcome === "completed" ? run.run.violations : null,
        waitingSeries: text.split("\n").filter((line) => line.startsWith("reckon_webhook_events_waiting{")).length,
        firstScrapeMs: Math.round(first * 100) / 100,
        storedStateRead: milliseconds(reads),
        scrapeWithRead: milliseconds(scrapes),
        cachedScrape: milliseconds(cachedScrapes),
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}

const results: Record<string, unknown> = {};
for (const engine of engines) {
  results[engine] = await benchEngine(engine);
  console.error(`${engine}: ${JSON.stringify(results[engine])}`);
}
recordBenchmark("metrics", { loadAverage1m: Math.round(loadavg()[0]! * 10) / 10, users, webhookEvents: EVENTS, waitingEvents: 2000, backfillRecords: 50, scrapes: SCRAPES, ...results }, [
  "Time of `GET /metrics`'s work (the merged registry's `metrics()`) on a 100k-user database after a full",
  "reconciliation run, with 100k stored webhook events (1,000 failed, 1,000 parked) and 50 backfill records.",
  "`storedStateRead`: the stored-state reads alone; `scrapeWithRead`: a scrape whose cache had expired (one read);",
  "`cachedScrape`: a scrape answered by the 5-second cache; `firstScrapeMs` also reads the run's top deltas (once per run).",
]);

import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { setCatalogueProduct } from "../../src/catalogue/setCatalogueProduct.js";
import { loadConfig, type Config } from "../../src/config.js";
import { buildApp } from "../../src/http/buildApp.js";
import { warmMetrics } from "../../src/ops/scrapeMetrics.js";
import { deliveryWriterFor } from "../../src/webhooks/deliveryWriterFor.js";
import { STORED_STATE_CACHE_MS } from "../../src/ops/storedStateMetrics.js";
import { todayUtc } from "../../src/reconcile/checkRunDate.js";
import { readTopDeltas } from "../../src/reconcile/readTopDeltas.js";
import { runReconciliation } from "../../src/reconcile/runReconciliation.js";
import { openDatabase, type Db } from "../../src/storage/openDatabase.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT } from "../paynowLoad.js";

/**
 * The measured process: it serves the HTTP API and runs the reconciliation on the same
 * database handle, as `reckon serve` does when its scheduler fires, while a separate
 * process offers load to one route. Prints one JSON object.
 *
 * argv: url users entries rate route chunkUsers
 */
const [url, usersText, entriesText, rateText, route, chunkText] = process.argv.slice(2);
const users = Number(usersText);
const entries = Number(entriesText);

async function main() {
  const db = openDatabase(url!, { poolSize: 10 });
  const aggregateStarted = performance.now();
  const bare = await sql<{ violations: number | string }>`
    SELECT COUNT(*) AS violations FROM wallets w
    LEFT JOIN (SELECT uid, SUM(amount) AS total FROM ledger_entries GROUP BY uid) e ON e.uid = w.uid
    WHERE w.points <> COALESCE(e.total, 0)`.execute(db.kysely);
  const bareAggregateSeconds = (performance.now() - aggregateStarted) / 1000;

  const now = new Date();
  const token = await createApiToken(db.kysely, { role: "service", name: "bench", now });
  // The webhook route needs PayNow secrets and the product its orders buy.
  const paynowSecrets = [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")].join(",");
  await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now });
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: "silent", PAYNOW_WEBHOOK_SECRETS: paynowSecrets });
  // As `reckon serve` does: the webhook writer (a thread of its own on SQLite) starts before
  // the first delivery, and loads while the load generator starts, not under the first requests.
  deliveryWriterFor(db, { oneBatchAtATime: false });
  const app = await buildApp({ db, config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const offered = Number(rateText) > 0;
  const loader = !offered ? undefined : fork(new URL("./offerLoad.ts", import.meta.url).pathname, [`http://127.0.0.1:${port}`, token.token, rateText!, "600", route!, String(users)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, RECKON_BENCH_PAYNOW_SECRETS: paynowSecrets },
  });
  const loadResult = new Promise<unknown>((resolve) => (loader ? loader.once("message", resolve) : resolve("not offered")));
  if (loader) await new Promise((resolve) => setTimeout(resolve, 3000));
  loader?.send("load");

  // As `reckon serve` does: on PostgreSQL the run has its own small pool.
  const jobsDb = db.dialect === "postgres" ? openDatabase(url!, { poolSize: 2 }) : db;
  const started = performance.now();
  const outcome = await runReconciliation(jobsDb, { date: todayUtc(now), policy: "adjust_ledger", chunkUsers: Number(chunkText), mode: "start", now: () => new Date() });
  const reconcileSeconds = (performance.now() - started) / 1000;
  loader?.send("stop");
  const load = await loadResult;
  if (outcome.outcome !== "completed") throw new Error(`run ended ${outcome.outcome}`);

  // Closing waits for the requests the load left queued; the scrapes then see an idle server, as on a quiet night.
  await app.close();
  const metrics = await scrapeAfterRun(config, db, outcome.run.runId);

  const adjustments = await db.kysely
    .selectFrom("ledger_entries")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.coalesce(eb.fn.sum<number>("amount"), eb.lit(0)).as("total")])
    .where("kind", "=", "reconcile_adjustment")
    .executeTakeFirstOrThrow();
  if (jobsDb !== db) await jobsDb.close();
  await db.close();
  console.log(
    JSON.stringify({
      reconcileSeconds: Math.round(reconcileSeconds * 100) / 100,
      usersPerSecond: Math.round(users / reconcileSeconds),
      entriesPerSecond: Math.round(entries / reconcileSeconds),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      usersChecked: outcome.run.usersChecked,
      driftsFound: outcome.run.violations,
      adjustmentEntries: Number(adjustments.n),
      adjustmentSum: Number(adjustments.total),
      adjustmentAbsTotal: outcome.run.adjustmentAbsTotal,
      bareAggregateSeconds: Math.round(bareAggregateSeconds * 100) / 100,
      bareAggregateViolations: Number(bare.rows[0]!.violations),
      ratioToBareAggregate: Math.round((reconcileSeconds / bareAggregateSeconds) * 100) / 100,
      load,
      metrics,
    }),
  );
}

const SCRAPES = 6;
/** Scrapes that read are spaced like Prometheus's default 15 s interval would leave the pool. */
const IDLE_SPACING_MS = 11_000;

/** `minMs` is the closest to the work's own cost on a machine other processes keep busy. */
function percentiles(samples: number[]): { minMs: number; p50Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return { minMs: round(sorted[0]!), p50Ms: round(sorted[Math.floor((sorted.length - 1) / 2)]!), maxMs: round(sorted.at(-1)!) };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/**
 * `GET /metrics` on the freshly reconciled database, over HTTP as Prometheus scrapes it:
 * the first scrape after the run (it also reads the run's top deltas), then scrapes
 * spaced past the stored-state cache and pg's idle timeout, so each does its stored-state reads again, and
 * scrapes the cache answers. `topDeltasRead` times the one read the first scrape adds.
 * A server of its own, on the same database handle, started once the load has drained,
 * warmed as `serve` warms it.
 */
async function scrapeAfterRun(config: Config, db: Db, runId: number) {
  const app = await buildApp({ db, config });
  // As `serve` does before it listens (it warms no cache: the first scrape still reads).
  await warmMetrics(db);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  try {
    return await scrapeTimes(base, db, runId);
  } finally {
    await app.close();
  }
}

async function scrapeTimes(base: string, db: Db, runId: number) {
  const scrape = async () => {
    const response = await fetch(`${base}/metrics`);
    if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
    await response.text();
  };
  const firstScrapeMs = Math.round((await timed(scrape)) * 10) / 10;
  const uncached: number[] = [];
  const cached: number[] = [];
  for (let index = 0; index < SCRAPES; index++) {
    // Past the cache, and past pg's 10 s idle timeout, as Prometheus scraping every 15 s is.
    await new Promise((resolve) => setTimeout(resolve, Math.max(STORED_STATE_CACHE_MS, IDLE_SPACING_MS) + 100));
    uncached.push(await timed(scrape));
    cached.push(await timed(scrape));
  }
  const topDeltas: number[] = [];
  for (let index = 0; index < SCRAPES; index++) topDeltas.push(await timed(() => readTopDeltas(db.kysely, runId, 10)));
  const all = [firstScrapeMs, ...uncached, ...cached];
  return { scrapes: all.length, firstScrapeMs, uncachedScrape: percentiles(uncached), cachedScrape: percentiles(cached), topDeltasRead: percentiles(topDeltas), allScrapes: percentiles(all) };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

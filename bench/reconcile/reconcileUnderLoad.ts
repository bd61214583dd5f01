import { fork } from "node:child_process";
import { readdirSync } from "node:fs";
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
import type { SeparateWriter, WriteTurns } from "../../src/storage/SeparateWriter.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT } from "../paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "../procStat.js";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { MemorySampler } from "./memorySampler.js";

/**
 * The measured process: it serves the HTTP API and runs the reconciliation on the same
 * database handle, as `reckon serve` does when its scheduler fires, while a separate
 * process offers load to one route. Prints one JSON object.
 *
 * Run from the build (`buildMeasured`, plain node, as the server runs); the load
 * generator is a TypeScript file run through tsx in its own process.
 *
 * argv: url users entries rate route chunkUsers offerLoadPath
 */
const [url, usersText, entriesText, rateText, route, chunkText, offerLoadPath] = process.argv.slice(2);
const users = Number(usersText);
const entries = Number(entriesText);

async function main() {
  const memory = new MemorySampler();
  // RECKON_BENCH_MAIN_CACHE_KIB: the main connection's SQLite page cache in KiB instead of the
  // default, to compare sizes on one build (docs/decisions/sqlite-cache-sizes.md).
  const mainCacheKiB = process.env.RECKON_BENCH_MAIN_CACHE_KIB ? Number(process.env.RECKON_BENCH_MAIN_CACHE_KIB) : undefined;
  const db = openDatabase(url!, { poolSize: 10, cacheKiB: mainCacheKiB });
  memory.mark("opened");
  const aggregateStarted = performance.now();
  const bare = await sql<{ violations: number | string }>`
    SELECT COUNT(*) AS violations FROM wallets w
    LEFT JOIN (SELECT uid, SUM(amount) AS total FROM ledger_entries GROUP BY uid) e ON e.uid = w.uid
    WHERE w.points <> COALESCE(e.total, 0)`.execute(db.kysely);
  const bareAggregateSeconds = (performance.now() - aggregateStarted) / 1000;
  memory.mark("bareAggregateDone");

  const now = new Date();
  const token = await createApiToken(db.kysely, { role: "service", name: "bench", now });
  // The webhook route needs PayNow secrets and the product its orders buy.
  const paynowSecrets = [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")].join(",");
  await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now });
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: "silent", PAYNOW_WEBHOOK_SECRETS: paynowSecrets });
  // As `reckon serve` does: the webhook writer (a thread of its own on SQLite) starts before
  // the first delivery, and loads while the load generator starts, not under the first requests.
  const writer = deliveryWriterFor(db, { oneBatchAtATime: false });
  const turns = db.separateWriter ? timeTurns(db.separateWriter, writer as unknown as WriteTurns) : null;
  const app = await buildApp({ db, config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  memory.mark("serving");

  const offered = Number(rateText) > 0;
  const loader = !offered ? undefined : fork(offerLoadPath!, [`http://127.0.0.1:${port}`, token.token, rateText!, "600", route!, String(users)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, RECKON_BENCH_PAYNOW_SECRETS: paynowSecrets },
  });
  const loadResult = new Promise<unknown>((resolve) => (loader ? loader.once("message", resolve) : resolve("not offered")));
  if (loader) await new Promise((resolve) => setTimeout(resolve, 3000));
  loader?.send("load");
  memory.mark("runStarts");
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const threadsBefore = threadTicks();
  turns?.reset();

  // As `reckon serve` does: on PostgreSQL the run has its own small pool.
  const jobsDb = db.dialect === "postgres" ? openDatabase(url!, { poolSize: 2 }) : db;
  // "default": the engine's own chunk size, as `reckon serve` uses without RECONCILE_CHUNK_USERS.
  const chunkUsers = chunkText === "default" ? jobsDb.engine.sweepChunkUsers : Number(chunkText);
  const started = performance.now();
  const outcome = await runReconciliation(jobsDb, { date: todayUtc(now), policy: "adjust_ledger", chunkUsers, mode: "start", now: () => new Date() });
  const reconcileSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const threadCpu = threadCpuSince(threadsBefore);
  loopDelay.disable();
  const turnsDuringRun = turns?.summary() ?? null;
  memory.mark("runEnded");
  loader?.send("stop");
  const load = await loadResult;
  if (outcome.outcome !== "completed") throw new Error(`run ended ${outcome.outcome}`);

  // Closing waits for the requests the load left queued; the scrapes then see an idle server, as on a quiet night.
  await app.close();
  // RECKON_BENCH_METRICS=0 skips the scrapes (over a minute of idle spacing) when iterating on the run.
  const metrics = process.env.RECKON_BENCH_METRICS === "0" ? "skipped" : await scrapeAfterRun(config, db, outcome.run.runId);

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
      chunkUsers,
      usersPerSecond: Math.round(users / reconcileSeconds),
      entriesPerSecond: Math.round(entries / reconcileSeconds),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      // Where the resident memory was (MiB) at each moment, and its peak in each phase (docs/decisions/reconciliation-reader-thread.md).
      memory: memory.stop(),
      // Every thread of this process (the main thread, the webhook writer, libuv), during the run.
      processCpuSecondsDuringRun: Math.round((cpu.user + cpu.system) / 10_000) / 100,
      // The same by thread (/proc/self/task): the main thread, and the busiest others (the webhook writer first).
      threadCpuSecondsDuringRun: threadCpu,
      // How long the main thread's event loop was held during the run (ms).
      // The main connection's turns at the write lock during the run: the webhook writer thread stands still from asking to giving back.
      writerTurnsDuringRun: turnsDuringRun,
      eventLoopDelayMs: { p50: Math.round(loopDelay.percentile(50) / 1e5) / 10, p99: Math.round(loopDelay.percentile(99) / 1e5) / 10, max: Math.round(loopDelay.max / 1e5) / 10 },
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

/** CPU ticks (user + system) of each thread of this process, by thread id (Linux; empty elsewhere). */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      ticks.set(tid, readProcStat(`/proc/self/task/${tid}/stat`).ticks);
    }
  } catch {
    // No /proc: the figure is left out.
  }
  return ticks;
}

/** Seconds of CPU each thread used since `before`: the main thread's, and the three busiest others'. */
function threadCpuSince(before: Map<string, number>): { main: number; others: number[] } {
  const after = threadTicks();
  const used = (tid: string) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / CLOCK_TICKS_PER_SECOND;
  const others = [...after.keys()].filter((tid) => tid !== String(process.pid)).map(used).sort((a, b) => b - a);
  return { main: used(String(process.pid)), others: others.slice(0, 3) };
}

/**
 * Times the main connection's turns at the write lock (`SeparateWriter`): from asking the
 * writer thread to pause until it is given back, the thread's batches wait.
 */
function timeTurns(separate: SeparateWriter, thread: WriteTurns) {
  let waitedMs: number[] = [];
  let heldMs: number[] = [];
  let askedAt = 0;
  let grantedAt = 0;
  separate.takeTurnsWith({
    take: async () => {
      askedAt = performance.now();
      await thread.take();
      grantedAt = performance.now();
    },
    give: () => {
      waitedMs.push(grantedAt - askedAt);
      heldMs.push(performance.now() - grantedAt);
      thread.give();
    },
    // The sweep's slices, where the thread walks them, take no turn. RECKON_BENCH_LINES_ON_WRITER=0
    // leaves them on the main connection (the A side of an A/B pair).
    ...(process.env.RECKON_BENCH_LINES_ON_WRITER === "0" ? {} : { sweepRange: thread.sweepRange?.bind(thread) }),
    // The main connection's commits share the thread's fsyncs, as without this wrapper.
    ...(thread.syncLog ? { syncLog: thread.syncLog.bind(thread) } : {}),
  });
  const figures = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 10) / 10;
    return { totalMs: Math.round(sorted.reduce((sum, ms) => sum + ms, 0)), p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
  };
  return {
    reset: () => {
      waitedMs = [];
      heldMs = [];
    },
    /** `waited`: until the thread finished its batch and the main thread saw it paused; `held`: the main connection's write. */
    summary: () => ({ turns: heldMs.length, waited: figures(waitedMs), held: figures(heldMs) }),
  };
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

import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { buildMeasured } from "./reconcile/buildMeasured.js";
import { recordBenchmark } from "./recordBenchmark.js";
import { scratchDatabase } from "./scratchDatabase.js";

/**
 * `npm run bench:reconcile`: builds USERS users with ENTRIES_PER_USER entries each on
 * SQLite and PostgreSQL, plants known drifts, and reconciles with full reports while
 * offering RATE requests/s to ROUTE; compares with the engine's bare aggregate query.
 *
 * RECKON_BENCH_USERS (default 1000000), RECKON_BENCH_ENTRIES_PER_USER (10),
 * RECKON_BENCH_ENGINES (sqlite,postgres), RECKON_BENCH_RATE (500),
 * RECKON_BENCH_ROUTE ("webhook" = signed PayNow deliveries to POST /api/webhooks/paynow, the
 * issue's target; "spend" = POST /api/wallets/:uid/spend; or a path with :uid),
 * RECKON_BENCH_CHUNK_USERS (the engine's default, `sweepChunkUsers`), RECKON_BENCH_METRICS=0 (skip the /metrics scrapes after the run),
 * RECKON_BENCH_LINES_ON_WRITER=0 (the sweep writes its `ok` lines on the main connection, taking turns),
 * RECKON_BENCH_MAIN_CACHE_KIB (the main SQLite connection's page cache instead of the default).
 * Only the full size at 500/s is written to docs/benchmarks.md (RECKON_BENCH_RECORD=1 forces it).
 */
const env = process.env;
const users = Number(env.RECKON_BENCH_USERS ?? 1_000_000);
const perUser = Number(env.RECKON_BENCH_ENTRIES_PER_USER ?? 10);
const engines = (env.RECKON_BENCH_ENGINES ?? "sqlite,postgres").split(",");
const rate = Number(env.RECKON_BENCH_RATE ?? 500);
const route = env.RECKON_BENCH_ROUTE ?? "webhook";
const chunkUsersSet = env.RECKON_BENCH_CHUNK_USERS ? Number(env.RECKON_BENCH_CHUNK_USERS) : null;

/** Runs a bench script (TypeScript, through tsx) or a built one (`.js`, under plain node) and returns its last line's JSON. */
function child(script: string, args: string[]): Record<string, unknown> {
  const entry = script.endsWith(".js") ? [script] : ["--import", "tsx", new URL(script, import.meta.url).pathname];
  const output = execFileSync(process.execPath, [...entry, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = output.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

// The measured process runs the build, as `reckon serve` does.
const measured = buildMeasured();
const offerLoad = new URL("./reconcile/offerLoad.ts", import.meta.url).pathname;

async function benchEngine(engine: string): Promise<Record<string, unknown>> {
  const { url, drop: cleanup } = await scratchDatabase(engine, `reckon_bench_${process.pid}`);
  try {
    const dataset = child("./reconcile/buildDataset.ts", [url, String(users), String(perUser)]);
    console.error(`${engine}: built ${JSON.stringify(dataset)}`);
    const run = child(measured, [url, String(users), String(users * perUser), String(rate), route, chunkUsersSet === null ? "default" : String(chunkUsersSet), offerLoad]);
    console.error(`${engine}: ${JSON.stringify(run)}`);
    return { dataset, ...run, driftsPlanted: dataset.plantedDrifts, plantedSum: dataset.plantedSum };
  } finally {
    await cleanup();
  }
}

const results: Record<string, unknown> = {};
for (const engine of engines) results[engine] = await benchEngine(engine);
const figures = { users, entries: users * perUser, rateOffered: rate, route, chunkUsers: chunkUsersSet ?? "the engine's default (each engine's figures say which)", ...results };
const notes = [
  "Targets: 1M users / 10M entries reconciled with full reports in at most 15 s (SQLite) and 40 s (PostgreSQL),",
  "peak RSS of the serving + reconciling process at most 400 MB, p99 ACK of the offered route (the PayNow webhook unless `route` says otherwise) at most 100 ms while it runs.",
  "`load.baseline` is 3 s of the same load before the run; `load.underReconciliation` is during it.",
  "`metrics`: `GET /metrics` after the run (target: under 50 ms at 1M users), also in its own section `reconcile-metrics`.",
  "The machine is shared with other engineers' work while this ran; figures are noisy.",
];
// The /metrics figure at 1M users has its own section: it holds at any load rate and entries per user.
if (users === 1_000_000 || env.RECKON_BENCH_RECORD === "1") {
  const metrics = Object.fromEntries(engines.map((engine) => [engine, (results[engine] as { metrics?: unknown }).metrics]));
  recordBenchmark("reconcile-metrics", { loadAverage1m: Math.round(loadavg()[0]! * 10) / 10, users, entries: users * perUser, rateOffered: rate, ...metrics }, [
    "`GET /metrics` over HTTP on the database `bench:reconcile` built and reconciled (target: under 50 ms at 1M users), on a server",
    "started after the load drained: the first scrape after the run (it also reads the run's top deltas), scrapes spaced past the",
    "stored-state cache and pg's 10 s idle timeout (`uncachedScrape`: one stored-state read each, 11 s apart, as a 15 s scrape interval",
    "leaves the pool), scrapes the cache answers, and the top-deltas read alone. The server warms its stored-state reads before it",
    "listens, as `reckon serve` does (docs/decisions/metrics-from-stored-state.md). `loadAverage1m` is the load when it ran.",
  ], `${users === 1_000_000 && perUser === 10 && rate === 500 ? "" : `RECKON_BENCH_USERS=${users} RECKON_BENCH_ENTRIES_PER_USER=${perUser} RECKON_BENCH_RATE=${rate} `}npm run bench:reconcile`);
}
const fullSize = users === 1_000_000 && perUser === 10 && rate === 500;
if (fullSize || env.RECKON_BENCH_RECORD === "1") recordBenchmark("reconcile", figures, notes);
else console.log(JSON.stringify(figures));

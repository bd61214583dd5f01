/**
 * npx tsx bench/sqliteBatchCpu.ts — the writer thread's work per delivery on SQLite, without
 * HTTP or threads: signed PayNow bodies (every tenth a repeat) read and committed through
 * `writeVerified` and a `WebhookCommitQueue` on a connection opened as the writer thread
 * opens its own, BENCH_BATCH (default 32) submitted per turn, so every batch has that size,
 * and the log fsynced after each batch before the next is submitted, as the main thread
 * does before it answers. Prints the CPU of this thread (µs per delivery, from
 * /proc/thread-self/stat; the fsyncs run in libuv's pool and are not counted) for
 * BENCH_DELIVERIES (default 12,800) after a warm-up of 3,200. Run it with `--cpu-prof` to
 * see where the time goes.
 */
import { randomBytes } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import { loadavg } from "node:os";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { openDatabase } from "../src/storage/openDatabase.js";
import { WalSync, walPathOf } from "../src/storage/sqlite/walSync.js";
import { writeVerified } from "../src/webhooks/pendingDelivery.js";
import { MAX_BATCH, WebhookCommitQueue } from "../src/webhooks/WebhookCommitQueue.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { percentile } from "./openLoop.js";
import { auditIngest, LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "./paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "./procStat.js";

const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 12_800);
const WARMUP = 3_200;

function threadCpuSeconds(): number {
  return readProcStat("/proc/thread-self/stat").ticks / CLOCK_TICKS_PER_SECOND;
}

/** BENCH_STATEMENTS=1: time every statement of the measured part by its text. */
const statementTimes = new Map<string, { runs: number; ms: number }>();
let timing = false;
/** CPU of the whole process per delivery, batch by batch: its median shrugs off other work's interference. */
const batchUs: number[] = [];
if (process.env.BENCH_STATEMENTS === "1") {
  const probe = new BetterSqlite3(":memory:");
  const prototype = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ["run", "all", "get"]) {
    const original = prototype[method]!;
    prototype[method] = function timed(this: { source: string }, ...args: unknown[]) {
      if (!timing) return original.apply(this, args);
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - started;
        let entry = statementTimes.get(this.source);
        if (!entry) statementTimes.set(this.source, (entry = { runs: 0, ms: 0 }));
        entry.runs++;
        entry.ms += ms;
      }
    };
  }
}

const database = await createTestDatabase("sqlite");
try {
  await setCatalogueProduct(database.db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
  const db = openDatabase(database.url, { writerThread: false, callerFsyncsLog: true });
  const walSync = WalSync.ofFile(walPathOf(database.url.slice("file:".length)));
  const { maxInFlight, nextBatchAfterMs } = db.engine.commitQueue;
  const queue = new WebhookCommitQueue(db, MAX_BATCH, maxInFlight, nextBatchAfterMs);
  const load = new PaynowLoad([randomBytes(24).toString("hex")]);
  const answers: { tag: string; status: number; latencyMs: number }[] = [];
  let sent = 0;
  // Signed before the clock starts: signing is the load generator's work, not the writer's.
  const sign = (count: number) => Array.from({ length: count }, () => load.shot(sent++));
  const run = async (all: ReturnType<typeof sign>) => {
    const count = all.length;
    for (let done = 0; done < count; done += BATCH) {
      const shots = all.slice(done, done + BATCH);
      const batchStarted = process.cpuUsage();
      const written = await Promise.all(
        shots.map((shot) =>
          writeVerified(queue, { provider: "paynow", rawBody: Buffer.from(shot.body), headers: "{}", receivedAt: new Date(), reversalPolicy: "allow_negative", environment: "test" }),
        ),
      );
      await walSync.sync();
      const used = process.cpuUsage(batchStarted);
      if (timing) batchUs.push((used.user + used.system) / shots.length);
      written.forEach((result, index) => answers.push({ tag: shots[index]!.tag, status: result.outcome === "stored" ? 200 : 400, latencyMs: 0 }));
    }
  };
  await run(sign(WARMUP));
  const measured = sign(DELIVERIES);
  timing = true;
  const before = threadCpuSeconds();
  const started = performance.now();
  await run(measured);
  const cpuSeconds = threadCpuSeconds() - before;
  const wallMs = performance.now() - started;
  timing = false;
  batchUs.sort((a, b) => a - b);
  for (const [source, { runs, ms }] of [...statementTimes].sort((a, b) => b[1].ms - a[1].ms)) {
    const text = source.replace(/\s+/g, " ").replace(/(\(\?(, \?)*\))(, \(\?(, \?)*\))+/g, "$1…").slice(0, 90);
    console.log(`${((ms * 1e3) / DELIVERIES).toFixed(1).padStart(6)} µs/delivery ${String(runs).padStart(6)} runs  ${text}`);
  }
  await walSync.close();
  await db.close();
  const audit = await auditIngest(database.db, load, answers);
  console.log(
    JSON.stringify({ batch: BATCH, deliveries: DELIVERIES, load1: loadavg()[0]!.toFixed(1), threadUsPerDelivery: Math.round((cpuSeconds * 1e6) / DELIVERIES),
      batchUsPerDelivery: { p25: Math.round(percentile(batchUs, 25)), median: Math.round(percentile(batchUs, 50)) }, wallUsPerDelivery: Math.round((wallMs * 1e3) / DELIVERIES), audit }),
  );
} finally {
  // BENCH_KEEP=1 keeps the database file to look at its plans.
  if (process.env.BENCH_KEEP === "1") console.log(database.url);
  else await database.drop();
}

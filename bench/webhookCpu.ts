/**
 * npx tsx bench/webhookCpu.ts — CPU per durable delivery of the SQLite webhook path, by
 * thread of the server: a fixed open-loop rate (BENCH_RATE, default 1,500/s) for
 * BENCH_SECONDS (default 10) after a warm-up, with each thread's CPU read from
 * /proc/<pid>/task/<tid>/stat before and after. Throughput means nothing on a shared
 * machine; CPU per delivery (µs) mostly does. The main thread is the task whose id is the
 * process id; the writer thread is the busiest other JavaScript thread (`node` or
 * `WebhookWriter…`); libuv's pool (`libuv-worker`, the fsyncs) and V8's helpers are summed
 * by name. BENCH_ROUNDS (default 1) fresh databases one after the other.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { runClosedLoop } from "./closedLoop.js";
import { runOpenLoop, startServer, stopServer, summarise, type Answer } from "./openLoop.js";
import { auditIngest, LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "./paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "./procStat.js";

const RATE = Number(process.env.BENCH_RATE ?? 1_500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** `bare`: the HMAC-only route of `webhookServer.ts`, the floor the main thread's figure compares with. */
const MODE = process.env.BENCH_MODE === "bare" ? "bare" : "reckon";
/** `closed`: BENCH_CONNECTIONS (default 64) closed-loop connections instead of the fixed rate: saturation. */
const LOOP = process.env.BENCH_LOOP === "closed" ? "closed" : "open";
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WARMUP = { ratePerSecond: 800, durationMs: 4_000 };

interface ThreadCpu {
  name: string;
  ticks: number;
}

/** Every thread of `pid`: its name and its user + system clock ticks. */
function threadTicks(pid: number): Map<number, ThreadCpu> {
  const threads = new Map<number, ThreadCpu>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, ticks } = readProcStat(`/proc/${pid}/task/${tid}/stat`);
      threads.set(Number(tid), { name, ticks });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

async function measure() {
  const database = await createTestDatabase("sqlite");
  const secrets = [randomBytes(24).toString("hex")];
  try {
    await setCatalogueProduct(database.db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
    const env = { PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test", DATABASE_URL: database.url };
    const { child, port } = await startServer(MODE, env);
    const load = new PaynowLoad(secrets);
    const answers = [];
    try {
      const warm = await runOpenLoop({ port, ...WARMUP, shot: (i) => load.shot(i) });
      answers.push(...warm.answers);
      const before = threadTicks(child.pid!);
      const generatorBefore = process.cpuUsage();
      const startedAt = performance.now();
      const run = LOOP === "open" ? await runOpenLoop({ port, ratePerSecond: RATE, durationMs: SECONDS * 1000, shot: (i) => load.shot(warm.sent + i) }) : null;
      const closedAnswers: Answer[] = [];
      const closed = run ? null : await runClosedLoop({ port, connections: CONNECTIONS, seconds: SECONDS, shot: (i) => load.shot(warm.sent + i), onAnswer: (answer) => closedAnswers.push(answer) });
      const after = threadTicks(child.pid!);
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const generator = process.cpuUsage(generatorBefore);
      answers.push(...(run ? run.answers : closedAnswers));
      const summary = run
        ? summarise(run)
        : { acked: closedAnswers.filter((answer) => answer.status >= 200 && answer.status < 300).length, achievedPerSecond: closed!.ackedPerSecond, latencyMs: closed!.latencyMs };
      const deltas = [...after].map(([tid, thread]) => ({ tid, name: thread.name, ticks: thread.ticks - (before.get(tid)?.ticks ?? 0) }));
      const usPerDelivery = (ticks: number) => Math.round(((ticks / CLOCK_TICKS_PER_SECOND) * 1e6) / summary.acked);
      const main = deltas.find((thread) => thread.tid === child.pid)!;
      const others = deltas.filter((thread) => thread.tid !== child.pid);
      const writer = others.filter((thread) => !/^(libuv-worker|V8 )/.test(thread.name)).sort((a, b) => b.ticks - a.ticks)[0] ?? { tid: 0, name: "none", ticks: 0 };
      const byName = new Map<string, number>();
      for (const thread of others) if (thread !== writer) byName.set(thread.name, (byName.get(thread.name) ?? 0) + thread.ticks);
      const busy = (ticks: number) => Math.round((ticks / CLOCK_TICKS_PER_SECOND / wallSeconds) * 100) / 100;
      return {
        loop: LOOP,
        acked: summary.acked,
        p50Ms: summary.latencyMs.p50,
        achievedPerSecond: summary.achievedPerSecond,
        p99Ms: summary.latencyMs.p99,
        usPerDelivery: {
          main: usPerDelivery(main.ticks),
          writer: usPerDelivery(writer.ticks),
          writerName: writer.name,
          rest: Object.fromEntries([...byName].map(([name, ticks]) => [name, usPerDelivery(ticks)])),
          process: usPerDelivery(deltas.reduce((sum, thread) => sum + thread.ticks, 0)),
          generator: Math.round((generator.user + generator.system) / summary.acked),
        },
        /** Share of one core each thread used over the run (1 = saturated). */
        busy: { main: busy(main.ticks), writer: busy(writer.ticks), generator: Math.round(((generator.user + generator.system) / 1e6 / wallSeconds) * 100) / 100 },
        audit: MODE === "bare" ? null : await auditIngest(database.db, load, answers),
      };
    } finally {
      await stopServer(child);
    }
  } finally {
    await database.drop();
  }
}

for (let round = 0; round < ROUNDS; round++) {
  const loadStart = loadavg()[0]!.toFixed(1);
  const result = await measure();
  console.log(JSON.stringify({ mode: MODE, rate: RATE, seconds: SECONDS, load1: loadStart, ...result }));
}

/**
 * npm run bench:sqlite-writer — the SQLite webhook path with its writer on the main thread
 * (SQLITE_WRITER_THREAD=0) against the writer thread (=1), alternating A B B A … on
 * fresh databases, same generator, same process: open-loop latency at 2,000/s offered
 * and the rate achieved when 6,000/s is offered. Bounded: BENCH_SECONDS per step
 * (default 4) × 2 steps × 2 modes × BENCH_ROUNDS (default 2), plus warm-ups.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { runOpenLoop, startServer, stopServer, summarise } from "./openLoop.js";
import { auditIngest, LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "./paynowLoad.js";
import { recordBenchmark } from "./recordBenchmark.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LATENCY_RATE = 2_000;
const CAPACITY_RATE = Number(process.env.BENCH_CAPACITY_RATE ?? 6_000);
const WARMUP = { ratePerSecond: 300, durationMs: 2_000 };

const loadAtStart = loadavg();
const secrets = [randomBytes(24).toString("hex")];

async function measure(writerThread: boolean) {
  const database = await createTestDatabase("sqlite");
  try {
    await setCatalogueProduct(database.db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
    const env = { PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test", DATABASE_URL: database.url, SQLITE_WRITER_THREAD: writerThread ? "1" : "0" };
    const { child, port } = await startServer("reckon", env);
    const load = new PaynowLoad(secrets);
    const answers = [];
    const steps: Partial<Record<"at2000" | "at6000", ReturnType<typeof summarise>>> = {};
    try {
      let offset = 0;
      for (const [name, ratePerSecond, durationMs] of [
        ["warmup", WARMUP.ratePerSecond, WARMUP.durationMs],
        ["at2000", LATENCY_RATE, SECONDS * 1000],
        ["at6000", CAPACITY_RATE, SECONDS * 1000],
      ] as const) {
        const base = offset;
        const result = await runOpenLoop({ port, ratePerSecond, durationMs, shot: (i) => load.shot(base + i) });
        offset += result.sent;
        answers.push(...result.answers);
        if (name !== "warmup") steps[name] = summarise(result);
      }
    } finally {
      await stopServer(child);
    }
    return { writerThread, ...steps, audit: await auditIngest(database.db, load, answers) };
  } finally {
    await database.drop();
  }
}

const runs: Awaited<ReturnType<typeof measure>>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? [false, true] : [true, false];
  for (const writerThread of order) runs.push(await measure(writerThread));
}
const side = (writerThread: boolean) => runs.filter((run) => run.writerThread === writerThread);
const summary = (writerThread: boolean) => ({
  achievedAt6000: side(writerThread).map((run) => run.at6000!.achievedPerSecond),
  p99MsAt2000: side(writerThread).map((run) => run.at2000!.latencyMs.p99),
});
recordBenchmark(
  "sqlite-writer",
  { secondsPerStep: SECONDS, mainThread: summary(false), writerThread: summary(true), runs },
  [
    "The SQLite webhook path with the group commit on the main thread (SQLITE_WRITER_THREAD=0) and on the",
    "writer thread (=1, the default), alternating on fresh databases with the same open-loop generator",
    "(bench/openLoop.ts, in this process; the server in its own). `audit` must be all zeros but `ackedEvents`.",
    "See docs/decisions/sqlite-writer-thread.md.",
    `Load average when the run started: ${loadAtStart.map((value) => value.toFixed(1)).join(", ")} (2 cores).`,
  ],
);

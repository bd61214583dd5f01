/**
 * npm run bench:webhooks — how many signed PayNow deliveries a second Reckon can take
 * durably, found rather than assumed. For the bare HMAC route (the generator's and
 * fastify's ceiling), Reckon on SQLite, and Reckon on PostgreSQL at each worker count
 * of BENCH_PG_WORKERS, each server in its own process and the same generator:
 *
 * - closed loop (autocannon, 64 connections, a fresh signed order per request,
 *   BENCH_SECONDS, default 8): the capacity at saturation, with p50/p99;
 * - open loop at 1,000/s, 2,000/s and half that capacity (BENCH_OPEN_SECONDS each, default 3);
 * - a ladder of open-loop steps (BENCH_LADDER_SECONDS each, default 2) from 60% of the
 *   capacity up by 15% a step until achieved < 95% of offered or p99 > 250 ms, reporting
 *   the last good step (at most 16 steps, which reach 4.9× the closed-loop capacity: a group-commit
 *   server answers 64 closed-loop connections a commit at a time, so its open-loop ceiling can lie
 *   well above the closed-loop figure, and the ladder must climb past it);
 * - the exactly-once audit over every answer of the target: all zeros but ackedEvents.
 *
 * Bounded by its step counts (at most 21 steps a target): about a minute a target at the defaults
 * on a quiet machine, about 4 minutes for all five; 9.4 minutes measured under a load of 20.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { runClosedLoop, type ClosedLoopFigures } from "./closedLoop.js";
import { runOpenLoop, startServer, stopServer, summarise, type Answer } from "./openLoop.js";
import { auditIngest, LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad, type IngestAudit } from "./paynowLoad.js";
import { recordBenchmark } from "./recordBenchmark.js";

const CLOSED_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const OPEN_SECONDS = Number(process.env.BENCH_OPEN_SECONDS ?? 3);
const LADDER_SECONDS = Number(process.env.BENCH_LADDER_SECONDS ?? 2);
const CONNECTIONS = 64;
const FIXED_RATES = [1_000, 2_000];
const LADDER = { startShare: 0.6, factor: 1.15, maxSteps: 16, minAchievedShare: 0.95, maxP99Ms: 250 };
/** Unreported first load: JIT, statement caches and connection pools warm up. */
const WARMUP = { ratePerSecond: 300, durationMs: 2_000 };
/** BENCH_ENGINES=postgres measures one engine (the bare route always runs: it is the baseline). */
const ENGINES = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
const PG_WORKERS = (process.env.BENCH_PG_WORKERS ?? "1,2,4").split(",").map(Number);

const loadAtStart = loadavg();
const secrets = [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")];
const serverEnv = { PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test" };

type Step = ReturnType<typeof summarise>;

interface TargetFigures {
  closedLoop: ClosedLoopFigures;
  openLoop: Step[];
  ladder: { steps: Step[]; lastGood: Step | null; stoppedBy: string };
  audit?: IngestAudit;
}

/** Whether an open-loop step kept up: achieved ≥ 95% of offered and p99 ≤ 250 ms. */
function stepFailure(step: Step): string | null {
  if (step.achievedPerSecond < step.offeredPerSecond * LADDER.minAchievedShare) return "achieved < 95% of offered";
  if (step.latencyMs.p99 > LADDER.maxP99Ms) return `p99 > ${LADDER.maxP99Ms} ms`;
  return null;
}

/** Warm-up, closed loop, fixed open-loop rates, ladder: one target, one generator, answers kept for the audit. */
async function measure(port: number, load: PaynowLoad, answers: Answer[]): Promise<TargetFigures> {
  let offset = 0;
  const next = () => (index: number) => load.shot(offset + index);
  const open = async (ratePerSecond: number, seconds: number) => {
    const result = await runOpenLoop({ port, ratePerSecond, durationMs: seconds * 1000, shot: next(), timeoutMs: 15_000 });
    offset += result.sent;
    answers.push(...result.answers);
    return summarise(result);
  };
  await open(WARMUP.ratePerSecond, WARMUP.durationMs / 1000);
  let closedSent = 0;
  const closedLoop = await runClosedLoop({
    port,
    connections: CONNECTIONS,
    seconds: CLOSED_SECONDS,
    shot: (index) => {
      closedSent = Math.max(closedSent, index + 1);
      return load.shot(offset + index);
    },
    onAnswer: (answer) => answers.push(answer),
  });
  offset += closedSent;
  const half = Math.max(50, Math.round(closedLoop.ackedPerSecond / 2 / 50) * 50);
  const openLoop = [];
  for (const rate of [...FIXED_RATES, half]) openLoop.push(await open(rate, OPEN_SECONDS));
  const steps: Step[] = [];
  let lastGood: Step | null = null;
  let stoppedBy = `${LADDER.maxSteps} steps without failing`;
  const roundRate = (value: number) => Math.max(50, Math.round(value / 50) * 50);
  let rate = roundRate(closedLoop.ackedPerSecond * LADDER.startShare);
  for (let index = 0; index < LADDER.maxSteps; index++, rate = Math.max(rate + 50, roundRate(rate * LADDER.factor))) {
    const step = await open(rate, LADDER_SECONDS);
    steps.push(step);
    const failure = stepFailure(step);
    if (failure) {
      stoppedBy = `${failure} at ${rate}/s`;
      break;
    }
    lastGood = step;
  }
  return { closedLoop, openLoop, ladder: { steps, lastGood, stoppedBy } };
}

async function measureBare(): Promise<TargetFigures> {
  const { child, port } = await startServer("bare", serverEnv);
  try {
    return await measure(port, new PaynowLoad(secrets), []);
  } finally {
    await stopServer(child);
  }
}

async function measureEngine(engine: "sqlite" | "postgres", workers = 1): Promise<TargetFigures> {
  const database = await createTestDatabase(engine);
  const { db, url } = database;
  try {
    await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
    // Several workers each load the code and open their pools: on a loaded machine that takes a while.
    const { child, port } = await startServer("reckon", { ...serverEnv, DATABASE_URL: url, BENCH_WORKERS: String(workers) }, [], 180_000);
    const load = new PaynowLoad(secrets);
    const answers: Answer[] = [];
    let figures: TargetFigures;
    try {
      figures = await measure(port, load, answers);
    } finally {
      await stopServer(child);
    }
    return { ...figures, audit: await auditIngest(db, load, answers) };
  } finally {
    await database.drop();
  }
}

const startedAt = performance.now();
const bare = await measureBare();
const bareCapacity = bare.closedLoop.ackedPerSecond;
const ratio = (figures: TargetFigures) => Math.round((figures.closedLoop.ackedPerSecond / bareCapacity) * 100) / 100;
const figures: Record<string, unknown> = {
  closedLoopSeconds: CLOSED_SECONDS,
  openLoopSeconds: OPEN_SECONDS,
  ladderSeconds: LADDER_SECONDS,
  connections: CONNECTIONS,
  bareHmacRoute: bare,
};
const summary: Record<string, { capacityPerSecond: number; ratioToBare: number; ladderLastGoodPerSecond: number | null }> = {
  bare: { capacityPerSecond: bareCapacity, ratioToBare: 1, ladderLastGoodPerSecond: bare.ladder.lastGood?.offeredPerSecond ?? null },
};
for (const engine of ENGINES) {
  for (const workers of engine === "postgres" ? PG_WORKERS : [1]) {
    const name = engine === "postgres" ? `postgres_${workers}w` : engine;
    const measured = await measureEngine(engine, workers);
    figures[name] = { workers, ...measured, ratioToBare: ratio(measured) };
    summary[name] = { capacityPerSecond: measured.closedLoop.ackedPerSecond, ratioToBare: ratio(measured), ladderLastGoodPerSecond: measured.ladder.lastGood?.offeredPerSecond ?? null };
  }
}
figures.summary = summary;
figures.totalSeconds = Math.round((performance.now() - startedAt) / 1000);
recordBenchmark(
  "webhooks",
  figures,
  [
    "Each server runs in its own process; one generator process drives them all (2 cores shared by generator, server, PostgreSQL",
    "and, when this was run, other engineers' work: absolute figures are low and noisy, ratios to the bare route measured in the same run matter).",
    `closedLoop: autocannon, ${CONNECTIONS} connections, each request a freshly signed unique PayNow order (10% repeat an earlier event), for`,
    "`closedLoopSeconds`; `ackedPerSecond` is 2xx answers per second at saturation. openLoop: requests sent at their scheduled time whatever",
    "the server's state, latency from that time to the ACK's last byte, at 1,000/s, 2,000/s and half the closed-loop capacity.",
    "ladder: open-loop steps from 60% of the capacity, +15% a step, until achieved < 95% of offered or p99 > 250 ms (`stoppedBy`);",
    "`lastGood` is the highest step that kept up. The bare route's ladder is bounded by the open-loop generator itself (one event loop).",
    "SQLite with synchronous=FULL and group commit; PostgreSQL with fsync and synchronous_commit on, `postgres_Nw` served by",
    "`reckon serve --workers N` (docs/decisions/serve-workers.md). `audit` must be all zeros but `ackedEvents`.",
    "The bare route's capacity several times Reckon's shows the generator is not what limits Reckon's figures.",
    `Load average when the run started: ${loadAtStart.map((value) => value.toFixed(1)).join(", ")} (2 cores).`,
  ],
);

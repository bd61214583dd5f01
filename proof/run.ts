/**
 * npm run proof [-- --minutes N --seed S --engine postgres|sqlite --instances K --failover]
 *
 * Drives a seeded workload through K real Reckon processes while SIGKILLing them,
 * reconciling from several processes at once, backfilling and editing wallets behind
 * Reckon's back; then checks every invariant against an independent model. Exit 0 only
 * when every invariant holds; a failing run prints its seed.
 */
import { backfillRepeatedly, killInstances, reconcileRepeatedly, reconcileRound, type Background, type BackgroundLog } from "./background.js";
import { checkInvariants, modelOf, type Invariant } from "./checker/invariants.js";
import { readLedgerFacts } from "./checker/ledgerFacts.js";
import { openProofDb, type ProofDb } from "./database.js";
import { DRIFT_TABLE } from "./drift.js";
import { Driver } from "./driver.js";
import { runFigures } from "./figures.js";
import { closeHttp } from "./http.js";
import { Instances } from "./instances.js";
import type { Operation } from "./operations.js";
import { readOptions } from "./options.js";
import { Random } from "./random.js";
import { runReckon } from "./reckonCli.js";
import { createRunDatabase, prepareRun } from "./setup.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { failOver, type FailoverWindow } from "./failover.js";
import { PostgresPair } from "./postgresPair.js";
import { Workload } from "./workload.js";

const options = readOptions(process.argv.slice(2));
const say = (line: string) => console.log(`[proof ${((Date.now() - startedAtMs) / 1000).toFixed(1)}s] ${line}`);
let startedAtMs = Date.now();
console.log(`proof: seed ${options.seed}, engine ${options.engine}, ${options.instances} instance(s), ${options.minutes} min${options.failover ? ", primary failover" : ""}`);

const root = new Random(options.seed);
const workloadRandom = root.fork();
const faultRandom = root.fork();
const reconcileRandom = root.fork();
const backfillRandom = root.fork();

const failoverRandom = root.fork();
const pair = options.failover ? new PostgresPair(mkdtempSync(join(tmpdir(), "reckon-proof-pg-"))) : null;
if (pair) await pair.start();
const setup = await prepareRun((dir) =>
  pair ? createRunDatabase("postgres", dir, pair.writableUrl("postgres"), (name) => pair.url(name)) : createRunDatabase(options.engine, dir),
);
let db: ProofDb = openProofDb(pair ? pair.writableUrl(setup.databaseName) : setup.env.DATABASE_URL!);
await db.transaction(async (run) => void (await run(DRIFT_TABLE)));
const instances = new Instances(setup.env);
await instances.start(options.instances);
startedAtMs = Date.now();
const durationMs = options.minutes * 60_000;
let stopping = false;
const log: BackgroundLog = { kills: [], reconciliations: [], backfills: [], problems: [] };
const failoverWindows: FailoverWindow[] = [];
const failoverDuring = (fromMs: number, toMs: number) => failoverWindows.some((window) => fromMs <= window.toMs && toMs >= window.fromMs);
const bg: Background = { instances, env: () => setup.env, stopped: () => stopping, nowMs: () => Date.now() - startedAtMs, log, say, failoverDuring };
const driver = new Driver({ instances, db: () => db, secrets: setup.secrets, tokens: setup.tokens, concurrency: options.concurrency, giveUpMs: 120_000, startedAtMs });
const users = Array.from({ length: options.users }, (_, n) => `proof_${options.seed}_u${n}`);
const workload = new Workload(workloadRandom, users);
const operations: Operation[] = [];
const rounds = { next: 0 };

let exitCode = 1;
// Interrupted (Ctrl-C, a CI timeout): no server or database cluster is left behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopping = true;
    console.log(`proof interrupted by ${signal} — seed ${options.seed}`);
    void Promise.allSettled([instances.stopAll(), pair?.stop()]).then(() => process.exit(1));
  });
}
try {
  const background = Promise.all([
    killInstances(bg, faultRandom, 20_000),
    reconcileRepeatedly(bg, reconcileRandom, Math.min(3, Math.max(2, options.instances)), rounds),
    backfillRepeatedly(bg, backfillRandom),
    pair
      ? failOver(bg, failoverRandom, pair, Math.round(durationMs * (0.3 + failoverRandom.next() * 0.3)), failoverWindows, async () => {
          const old = db;
          db = openProofDb(pair.writableUrl(setup.databaseName));
          await old.close().catch(() => undefined);
        })
      : Promise.resolve(),
  ]);
  let epochs = 0;
  while (Date.now() - startedAtMs < durationMs) {
    const epoch = workload.nextEpoch();
    operations.push(...epoch);
    await driver.runEpoch(epoch);
    if (++epochs % 5 === 0) say(`${operations.length} operations sent, ${log.kills.length} kills`);
  }
  stopping = true;
  await background;
  const elapsedMs = Date.now() - startedAtMs;
  // Every instance up again, then a last run heals what the last edits left.
  for (let index = 0; index < instances.count; index++) if (!instances.live().includes(index)) await instances.restart(index);
  await reconcileRound(bg, rounds.next++, 2);
  const verify = await runReckon(["reports", "verify"], setup.env);
  const verdict = verify.stdout.trim().split("\n").at(-1) ?? "";
  await instances.stopAll();
  const record = { operations, answers: driver.answers, attempts: driver.attempts, failoverWindows, verify: { ok: verify.code === 0, detail: `exit ${verify.code}: ${verdict} ${verify.stderr.trim().slice(0, 400)}` }, backfills: log.backfills.filter((run) => !run.duringFailover), unexpectedExits: instances.unexpectedExits };
  const model = modelOf(record);
  const facts = await readLedgerFacts(db);
  const invariants = checkInvariants(record, facts, model);
  const figures = runFigures(operations, driver.answers, driver.attempts, elapsedMs, failoverWindows);
  const summary = {
    seed: options.seed,
    engine: options.engine,
    instances: options.instances,
    minutes: options.minutes,
    ...figures,
    kills: log.kills.length,
    failovers: failoverWindows.length,
    ...(failoverWindows.length > 0
      ? { failoverWindowsMs: failoverWindows.map((window) => ({ killedAt: Math.round(window.fromMs), promotedAfter: Math.round(window.promotedMs - window.fromMs), allowed5xxUntil: Math.round(window.toMs) })) }
      : {}),
    reconciliations: log.reconciliations.length,
    backfills: log.backfills.length,
    backfillRuns: log.backfills.map((run) => `${run.type}: ${run.summary}`),
    driftsPlanted: operations.filter((op) => op.kind === "drift" && driver.answers.get(op.id)?.applied).length,
    healEntries: [...facts.heals.values()].reduce((total, heal) => total + heal.count, 0),
    unexpectedInstanceExits: instances.unexpectedExits.length,
    problems: log.problems,
  };
  console.log(JSON.stringify(summary, null, 2));
  printInvariants(invariants);
  const broken = invariants.find((invariant) => invariant.broken > 0);
  if (broken || log.problems.length > 0) {
    console.log(`FAIL: ${broken ? `invariant "${broken.name}" broken ${broken.broken} time(s)` : log.problems[0]} — replay with --seed ${options.seed}`);
  } else {
    console.log(`PASS: seed ${options.seed}, every invariant held`);
    exitCode = 0;
  }
} catch (error) {
  console.error(`proof aborted: ${(error as Error).stack ?? error} — seed ${options.seed}`);
  console.error(instances.recentLog().join("\n"));
} finally {
  stopping = true;
  await instances.stopAll().catch(() => undefined);
  closeHttp();
  await db.close().catch(() => undefined);
  await setup.cleanup().catch(() => undefined);
  await pair?.stop().catch(() => undefined);
}
process.exit(exitCode);

function printInvariants(invariants: Invariant[]): void {
  for (const invariant of invariants) {
    console.log(`${invariant.broken === 0 ? "ok  " : "FAIL"} ${invariant.name}: ${invariant.checked} checked, ${invariant.broken} broken`);
    for (const example of invariant.examples) console.log(`       ${example}`);
  }
}

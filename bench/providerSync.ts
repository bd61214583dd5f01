import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { backfillDeps } from "../src/backfill/backfillDeps.js";
import { backfillJob } from "../src/backfill/backfillJob.js";
import type { BackfillRun } from "../src/backfill/backfillRuns.js";
import { loadConfig, type Config } from "../src/config.js";
import type { Provider } from "../src/providers/PaymentEvent.js";
import { listFindings } from "../src/providerSync/storeFindings.js";
import { openDatabase, type Db } from "../src/storage/openDatabase.js";
import { withTransaction } from "../src/storage/withTransaction.js";
import { storeDeliveries } from "../src/webhooks/storeDeliveries.js";
import { createTestDatabase, invariantViolations } from "../test/support/testDatabase.js";
import { catalogue } from "../test/support/webhookFixtures.js";
import { POINTS_PER_UNIT, type BenchShop } from "./providerSync/benchShop.js";
import { paynowShop } from "./providerSync/paynowShop.js";
import { stripeShop } from "./providerSync/stripeShop.js";
import { recordBenchmark } from "./recordBenchmark.js";

/**
 * Provider sync against a provider's own records, for each provider of BENCH_PROVIDERS
 * (default paynow,stripe): a fake shop sells BENCH_ORDERS orders (default 100,000) in one
 * day; every 100th order's crediting webhook is lost, the other 99% are signed, verified,
 * and stored and applied in groups of 1,000 by the function the webhook writer commits its
 * groups with (`storeDeliveries`), without HTTP. Then, on each engine of BENCH_ENGINES, in
 * its own process (so its peak RSS is its own): a dry run, the real run carrying the dry
 * run's plan, and a second run, each timed. Each run must find exactly the planted lost
 * deliveries (the second run none), or the bench fails. Each process is killed after
 * BENCH_TIMEOUT_S seconds (default 1800).
 */
const ORDERS = Number(process.env.BENCH_ORDERS ?? 100_000);
const ENGINES = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
const PROVIDERS = (process.env.BENCH_PROVIDERS ?? "paynow,stripe").split(",") as Provider[];
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 1800);
/** One delivery in this many is lost. */
const DROP_EVERY = 100;
/** Delivered sales stored and applied per transaction. */
const SALES_PER_COMMIT = 1000;
const DAY = "2026-03-10";
const NEXT_MORNING = new Date("2026-03-11T03:00:00.000Z");
const SHOPS: Record<Provider, (clock: { now: Date }) => Promise<BenchShop>> = { paynow: paynowShop, stripe: stripeShop };
const run = promisify(execFile);

async function sync(db: Db, config: Config, provider: Provider, now: Date, input: { dryRun: boolean; planHash?: string }): Promise<{ run: BackfillRun; seconds: number }> {
  const start = performance.now();
  const started = await backfillJob(backfillDeps(db, config, () => now), config, {
    type: "provider_sync",
    provider,
    startDate: DAY,
    endDate: DAY,
    dryRun: input.dryRun,
    ...(input.planHash ? { planHash: input.planHash } : {}),
  });
  if (started.outcome !== "started") throw new Error(`provider sync refused: ${started.outcome}`);
  const done = await started.done;
  return { run: done, seconds: (performance.now() - start) / 1000 };
}

function check(condition: boolean, what: string, detail: unknown): void {
  if (!condition) throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

/**
 * Sells ORDERS orders over the day, losing every DROP_EVERY-th crediting delivery; each group of
 * SALES_PER_COMMIT delivered ones is verified and stored and applied in one transaction by
 * `storeDeliveries`, the function the webhook writer commits its groups with. Answers the lost event ids.
 */
async function sellDay(db: Db, config: Config, shop: BenchShop, clock: { now: Date }): Promise<Set<string>> {
  const dropped = new Set<string>();
  // Spread over the day, each sale at least 1 ms after the last: PayNow's Snowflake ids stay unique.
  const step = Math.max(1, Math.floor((20 * 3600 * 1000) / ORDERS));
  for (let n = 0; n < ORDERS; n++) {
    clock.now = new Date(clock.now.getTime() + step);
    const lost = await shop.sell(`bench_user_${n % 10_000}`, n % DROP_EVERY === DROP_EVERY - 1);
    if (lost !== null) dropped.add(lost);
    if ((n + 1) % SALES_PER_COMMIT === 0 || n === ORDERS - 1) await storeSent(db, shop.takeDeliveries(config));
  }
  return dropped;
}

async function storeSent(db: Db, deliveries: ReturnType<BenchShop["takeDeliveries"]>): Promise<void> {
  const stored = await withTransaction(db, (trx) => storeDeliveries(trx, deliveries));
  const unapplied = stored.filter((delivery) => delivery.duplicate || delivery.status !== "processed");
  check(unapplied.length === 0, "a delivered sale was not applied", unapplied.slice(0, 3));
}

/** The child: one provider on one engine's database at `url`, the fake shop and its API in this process. */
async function child(provider: Provider, url: string): Promise<void> {
  const db = openDatabase(url, { poolSize: 2 });
  const clock = { now: new Date(`${DAY}T01:00:00.000Z`) };
  const shop = await SHOPS[provider](clock);
  try {
    const config = loadConfig(shop.env);
    await catalogue(db, provider, shop.catalogueId, POINTS_PER_UNIT);
    const sellStart = performance.now();
    const dropped = await sellDay(db, config, shop, clock);
    const sellSeconds = (performance.now() - sellStart) / 1000;
    clock.now = NEXT_MORNING;

    const dry = await sync(db, config, provider, clock.now, { dryRun: true });
    check(dry.run.status === "completed" && dry.run.findingsFound === dropped.size && dry.run.plannedEntries === dropped.size, "the dry run did not find exactly the lost deliveries", { ...dry.run, planted: dropped.size });
    check(dry.run.findingsSample.every((finding) => finding.kind === "missing_delivery" && dropped.has(finding.subject)), "the dry run found something not planted", dry.run.findingsSample);

    const real = await sync(db, config, provider, clock.now, { dryRun: false, planHash: dry.run.planHash! });
    check(real.run.status === "completed" && real.run.findingsFound === dropped.size && real.run.processed === dropped.size, "the real run did not repair exactly the lost deliveries", { ...real.run, planted: dropped.size });
    const stored = await listFindings(db.kysely, { date: DAY, limit: ORDERS + 1 });
    const repaired = new Set(stored.filter((finding) => finding.kind === "missing_delivery" && finding.status === "repaired").map((finding) => finding.subject));
    check(stored.length === dropped.size && [...dropped].every((eventId) => repaired.has(eventId)), "the stored findings are not exactly the lost deliveries, repaired", { stored: stored.length, planted: dropped.size });
    const credited = await db.kysely.selectFrom("wallets").select((eb) => eb.fn.sum<number | string>("points").as("points")).executeTakeFirstOrThrow();
    check(Number(credited.points) === ORDERS * POINTS_PER_UNIT, "not every order is credited once", { credited: credited.points, expected: ORDERS * POINTS_PER_UNIT });
    check((await invariantViolations(db)).length === 0, "wallets and ledger disagree", null);

    const again = await sync(db, config, provider, clock.now, { dryRun: false });
    check(again.run.status === "completed" && again.run.findingsFound === 0 && again.run.processed === 0, "the second run found or changed something", again.run);

    console.log(
      JSON.stringify({
        planted: dropped.size,
        sellSeconds,
        dry: { seconds: dry.seconds, scanned: dry.run.scanned, findings: dry.run.findingsFound },
        real: { seconds: real.seconds, scanned: real.run.scanned, repaired: real.run.processed, findings: real.run.findingsFound },
        again: { seconds: again.seconds, scanned: again.run.scanned, findings: again.run.findingsFound },
        apiRequests: shop.apiRequests(),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      }),
    );
  } finally {
    await shop.close();
    await db.close();
  }
}

const round = (value: number) => Number(value.toFixed(2));

async function measure(provider: Provider, engine: "sqlite" | "postgres") {
  const database = await createTestDatabase(engine, { poolSize: 2 });
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/providerSync.ts", "--child", provider, database.url], { maxBuffer: 1 << 20, timeout: TIMEOUT_S * 1000, killSignal: "SIGKILL" });
    const figures = JSON.parse(stdout.trim().split("\n").pop()!);
    return {
      provider,
      engine,
      orders: ORDERS,
      missingDeliveries: figures.planted,
      storeSeconds: round(figures.sellSeconds),
      dryRun: { seconds: round(figures.dry.seconds), recordsRead: figures.dry.scanned, recordsPerSecond: Math.round(figures.dry.scanned / figures.dry.seconds), findings: figures.dry.findings, findingsPerSecond: Math.round(figures.dry.findings / figures.dry.seconds) },
      realRun: { seconds: round(figures.real.seconds), recordsRead: figures.real.scanned, repaired: figures.real.repaired, repairsPerSecond: Math.round(figures.real.repaired / figures.real.seconds) },
      secondRun: { seconds: round(figures.again.seconds), recordsRead: figures.again.scanned, findings: figures.again.findings },
      apiRequests: figures.apiRequests,
      peakRssMb: figures.peakRssMb,
    };
  } finally {
    await database.drop();
  }
}

if (process.argv[2] === "--child") {
  await child(process.argv[3] as Provider, process.argv[4]!);
} else {
  const loadAtStart = loadavg();
  const results = [];
  const failures: string[] = [];
  for (const provider of PROVIDERS) {
    for (const engine of ENGINES) {
      try {
        results.push(await measure(provider, engine));
      } catch (error) {
        // Recorded with the runs that did finish, then the bench fails.
        const failure = error as { killed?: boolean; stderr?: string; message: string };
        const reason = failure.killed ? `killed after ${TIMEOUT_S} s (BENCH_TIMEOUT_S)` : ((failure.stderr ?? "").split("\n").find((line) => /^\w*Error: /.test(line)) ?? failure.message).slice(0, 500);
        results.push({ provider, engine, orders: ORDERS, failed: reason });
        failures.push(`${provider} on ${engine}: ${reason}`);
      }
    }
  }
  recordBenchmark("provider-sync", { orders: ORDERS, missingEvery: DROP_EVERY, timeoutSeconds: TIMEOUT_S, results }, [
    "For each provider, a fake shop sells `orders` one-unit orders in one day and every 100th order's crediting webhook is lost;",
    "the other 99% are signed, their signatures verified, and stored and applied 1,000 per transaction by `storeDeliveries`,",
    "the function the webhook writer commits its groups with, without HTTP (`storeSeconds`).",
    "PayNow: the fake store (src/demo/fakePaynowStore.ts) records a lost webhook `failed` in its history; the sync reads the fake",
    "Management API (src/demo/fakePaynowApi.ts) over loopback: failed and pending history, then orders and payments by id.",
    "Stripe: the fake account (src/demo/fakeStripeAccount.ts) records each sale as a checkout session, payment intent and charge",
    "with their three events; Reckon's endpoint subscribes to the types it reads, so `checkout.session.completed` is the one sent,",
    "and a lost one stays `delivery_success: false`. The sync reads the fake API (src/demo/fakeStripeApi.ts) over loopback through",
    "the official `stripe` package, 100 objects a page: undelivered events, then completed checkout sessions, refunds, disputes.",
    "`dryRun` reads and compares everything and rolls back; `realRun` carries the dry run's plan, stores and applies the lost",
    "deliveries and stores its findings; `secondRun` must find nothing. Each run must find exactly the planted deliveries, and",
    "every order must be credited once, or the bench fails. The fake shop and its API run in the measured process, so their",
    "CPU time and memory are in `seconds` and `peakRssMb`. Each process is killed after `timeoutSeconds` (BENCH_TIMEOUT_S).",
    `Load average when the run started: ${loadAtStart.map((load) => load.toFixed(1)).join(", ")}.`,
  ]);
  if (failures.length > 0) {
    console.error(failures.join("\n"));
    process.exitCode = 1;
  }
}

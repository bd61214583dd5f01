/**
 * npm run bench:webhook-batch-cost — what one group commit costs on PostgreSQL, without
 * HTTP: the statements a batch sends (by their first word), the node CPU and the CPU of
 * the PostgreSQL backend per delivery, and the rows PostgreSQL touched, for batches of
 * 1, 8 and 64 signed PayNow deliveries (10% repeat an earlier event, 1,000 users), stored
 * and applied by `storeDeliveries` exactly as the commit queue does. BENCH_DELIVERIES
 * (default 6,400) deliveries per batch size; one connection, so one backend does all of it.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { sql } from "kysely";
import pg from "pg";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { readStoredDelivery } from "../src/webhooks/readStoredDelivery.js";
import { withTransaction } from "../src/storage/withTransaction.js";
import { pendingDelivery } from "../src/webhooks/pendingDelivery.js";
import { storeDeliveries } from "../src/webhooks/storeDeliveries.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "./paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "./procStat.js";
import { recordBenchmark } from "./recordBenchmark.js";

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 6_400);
const BATCH_SIZES = (process.env.BENCH_BATCH_SIZES ?? "1,8,64").split(",").map(Number);

/** Every statement pg sends, counted by its first word (`select`, `insert`, …). */
const statements = new Map<string, number>();
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === "string" ? args[0] : ((args[0] as { text?: string })?.text ?? "");
  const word = text.trimStart().split(/\s+/, 1)[0]!.toLowerCase();
  statements.set(word, (statements.get(word) ?? 0) + 1);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

/** CPU seconds (user + system) a local process has used, from /proc. */
function processCpuSeconds(pid: number): number {
  return readProcStat(`/proc/${pid}/stat`).ticks / CLOCK_TICKS_PER_SECOND;
}

const TUPLE_COUNTERS = ["xact_commit", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "blks_hit"] as const;

async function measureBatchSize(batchSize: number) {
  const database = await createTestDatabase("postgres", { poolSize: 1 });
  const { db } = database;
  try {
    await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
    const secrets = [randomBytes(24).toString("hex")];
    const load = new PaynowLoad(secrets);
    const deliveries = Array.from({ length: DELIVERIES }, (_, index) => {
      const body = Buffer.from(load.shot(index).body);
      const read = readStoredDelivery("paynow", body);
      return pendingDelivery({ provider: "paynow", rawBody: body, headers: "{}", receivedAt: new Date(), reversalPolicy: "allow_negative" }, read);
    });
    const backend = Number((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely)).rows[0]!.pid);
    const counters = async () => {
      await sql`select pg_stat_force_next_flush()`.execute(db.kysely);
      const row = (await sql<Record<string, string>>`select * from pg_stat_database where datname = current_database()`.execute(db.kysely)).rows[0]!;
      const tables = await sql<{ relname: string; seq: string; idx: string }>`
        select relname, seq_tup_read as seq, coalesce(idx_tup_fetch, 0) as idx from pg_stat_user_tables`.execute(db.kysely);
      return {
        ...Object.fromEntries(TUPLE_COUNTERS.map((name) => [name, Number(row[name])])),
        ...Object.fromEntries(tables.rows.flatMap((table) => [[`seq:${table.relname}`, Number(table.seq)], [`idx:${table.relname}`, Number(table.idx)]])),
      } as Record<string, number>;
    };
    const before = await counters();
    statements.clear();
    const backendBefore = processCpuSeconds(backend);
    const nodeBefore = process.cpuUsage();
    const startedAt = performance.now();
    for (let start = 0; start < deliveries.length; start += batchSize) {
      await withTransaction(db, (trx) => storeDeliveries(trx, deliveries.slice(start, start + batchSize)));
    }
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const node = process.cpuUsage(nodeBefore);
    const backendSeconds = processCpuSeconds(backend) - backendBefore;
    const counted = Object.fromEntries(statements);
    const after = await counters();
    const batches = Math.ceil(DELIVERIES / batchSize);
    const perDelivery = (value: number) => Math.round((value / DELIVERIES) * 100) / 100;
    const total = [...statements.values()].reduce((sum, n) => sum + n, 0);
    return {
      batchSize,
      batches,
      deliveriesPerSecond: Math.round(DELIVERIES / wallSeconds),
      statementsPerBatch: Math.round((total / batches) * 10) / 10,
      statementsByWord: counted,
      cpuUsPerDelivery: {
        node: Math.round(((node.user + node.system) / DELIVERIES) * 10) / 10,
        postgresBackend: Math.round((backendSeconds * 1e6) / DELIVERIES),
      },
      perDelivery: Object.fromEntries(
        Object.keys(after)
          .map((name) => [name, perDelivery(after[name]! - (before[name] ?? 0))] as const)
          .filter(([, value]) => value > 0),
      ),
    };
  } finally {
    await database.drop();
  }
}

const loadAtStart = loadavg();
const results = [];
for (const size of BATCH_SIZES) results.push(await measureBatchSize(size));
recordBenchmark("webhook-batch-cost", { deliveries: DELIVERIES, results }, [
  "One PostgreSQL connection stores and applies BENCH_DELIVERIES signed PayNow deliveries (10% repeats, 1,000 users) through",
  "`storeDeliveries`, one transaction per batch, as the webhook commit queue does, without HTTP. `statementsByWord` counts every",
  "statement sent (begin and commit included); `cpuUsPerDelivery.node` is this process, `postgresBackend` the backend's own CPU",
  "(from /proc, 10 ms ticks); `perDelivery` are pg_stat_database counters of the scratch database divided by the deliveries.",
  `Load average when the run started: ${loadAtStart.map((value) => value.toFixed(1)).join(", ")} (2 cores).`,
]);

import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import pg from "pg";
import { createApiToken } from "../src/auth/apiTokens.js";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { loadConfig } from "../src/config.js";
import { buildApp } from "../src/http/buildApp.js";
import { openDatabase } from "../src/storage/openDatabase.js";
import { deliveryWriterFor } from "../src/webhooks/deliveryWriterFor.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT } from "./paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "./procStat.js";

/**
 * Where a PayNow delivery's time and cost go on an existing database (e.g. the one
 * `bench/reconcile/buildDataset.ts` built), with no reconciliation: the real server on one
 * process, `bench/reconcile/offerLoad.ts` offering RATE deliveries/s open loop, WARMUP
 * seconds unmeasured, then SECONDS measured. Prints one JSON object: latency from each
 * request's scheduled time; app side, each transaction's pool-and-BEGIN, work and COMMIT
 * times and deliveries per commit; server side, WAL bytes / records / full-page images per
 * delivery (`pg_stat_wal`: cluster-wide, so exact only on a private cluster), buffers written
 * by backends and checkpoints (`pg_stat_bgwriter`), blocks read, CPU of node and of the
 * database's backends (/proc), wait events sampled from `pg_stat_activity` every 20 ms, and
 * per statement WAL and time where `pg_stat_statements` is loaded.
 *
 * argv: url users rate seconds [warmupSeconds]
 * PROBE_CHECKPOINT=1: a CHECKPOINT before the warm-up. PROBE_OBSERVER_URL: read the counters as
 * another role (a superuser) when `url`'s role is a plain one. PROBE_SESSION_SQL: run on each
 * pooled connection as it opens (before Reckon's own session settings, so it cannot turn off
 * what `compressSessionWal` sets: compare with a server-level `wal_compression = off` instead).
 * RECKON_BENCH_UID_OFFSET (offerLoad): credit users earlier runs did not.
 *
 * e.g. `PROBE_CHECKPOINT=1 npx tsx bench/pgWebhookProbe.ts postgres://postgres@127.0.0.1:5432/reckon_pgwebhook_1m 1000000 500 30 10`
 */
const [url, usersText, rateText, secondsText, warmupText] = process.argv.slice(2);
const users = Number(usersText);
const seconds = Number(secondsText);
const warmup = Number(warmupText ?? 5);

type Figures = { n: number; p50: number; p90: number; p99: number; max: number; mean: number };
function figures(values: number[]): Figures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 100) / 100;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: Math.round(mean * 100) / 100 };
}

function ticksOf(pid: number): number {
  try {
    return readProcStat(`/proc/${pid}/stat`).ticks;
  } catch {
    return 0;
  }
}

async function main() {
  const db = openDatabase(url!, { poolSize: 10 });
  const database = new URL(url!).pathname.slice(1);
  // PROBE_SESSION_SQL: run on every pooled connection as it opens (e.g. a SET to compare).
  const sessionSql = process.env.PROBE_SESSION_SQL;
  if (sessionSql) db.pool!.on("connect", (client) => void client.query(sessionSql).catch((error: Error) => console.error(`session sql: ${error.message}`)));

  const txTimes = { begin: [] as number[], work: [] as number[], commit: [] as number[] };
  let measuring = false;
  const originalTransaction = db.kysely.transaction.bind(db.kysely);
  (db.kysely as unknown as { transaction: unknown }).transaction = () => {
    const builder = originalTransaction();
    return new Proxy(builder, {
      get(target, property, receiver) {
        if (property !== "execute") return Reflect.get(target, property, receiver);
        return async (work: (trx: unknown) => Promise<unknown>) => {
          const asked = performance.now();
          let began = 0;
          let worked = 0;
          const result = await target.execute(async (trx) => {
            began = performance.now();
            const value = await work(trx);
            worked = performance.now();
            return value;
          });
          if (measuring) {
            txTimes.begin.push(began - asked);
            txTimes.work.push(worked - began);
            txTimes.commit.push(performance.now() - worked);
          }
          return result;
        };
      },
    });
  };

  const now = new Date();
  const token = await createApiToken(db.kysely, { role: "service", name: "probe", now });
  const secrets = [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")].join(",");
  await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "probe", now });
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: "silent", PAYNOW_WEBHOOK_SECRETS: secrets });
  deliveryWriterFor(db, { oneBatchAtATime: false });
  const app = await buildApp({ db, config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  // PROBE_OBSERVER_URL: the counters read as another role (a superuser) when the server's role is a plain one.
  const observer = new pg.Client({ connectionString: process.env.PROBE_OBSERVER_URL ?? url });
  await observer.connect();
  const observerPid = (await observer.query("select pg_backend_pid() as pid")).rows[0].pid as number;
  const statements = (await observer.query("select count(*) > 0 as present from pg_extension where extname = 'pg_stat_statements'").catch(() => ({ rows: [{ present: false }] }))).rows[0].present as boolean;

  // PROBE_CHECKPOINT=1: a CHECKPOINT before the warm-up, so every run starts where full-page images are most frequent.
  if (process.env.PROBE_CHECKPOINT === "1") await observer.query("checkpoint");
  const loader = fork(new URL("./reconcile/offerLoad.ts", import.meta.url).pathname, [`http://127.0.0.1:${port}`, token.token, rateText!, String(warmup + seconds + 30), "webhook", String(users)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, RECKON_BENCH_PAYNOW_SECRETS: secrets },
  });
  const loadResult = new Promise<any>((resolve) => loader.once("message", resolve));
  await new Promise((resolve) => setTimeout(resolve, warmup * 1000));

  const counters = async () => {
    const wal = (await observer.query("select wal_records, wal_fpi, wal_bytes::bigint as wal_bytes, wal_sync, wal_write, wal_write_time, wal_sync_time, wal_buffers_full from pg_stat_wal")).rows[0];
    const bg = (await observer.query("select checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_clean, buffers_backend, buffers_backend_fsync, buffers_alloc from pg_stat_bgwriter")).rows[0];
    const dbs = (await observer.query("select xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, blk_read_time, blk_write_time from pg_stat_database where datname = $1", [database])).rows[0];
    const pids = (await observer.query("select pid from pg_stat_activity where datname = $1 and pid <> $2", [database, observerPid])).rows.map((row) => row.pid as number);
    return { wal, bg, dbs, pids };
  };
  if (statements) await observer.query("select pg_stat_statements_reset()");
  const before = await counters();
  const backendTicks = new Map(before.pids.map((pid) => [pid, ticksOf(pid)]));
  const cpuBefore = process.cpuUsage();
  const load = [1, 5].map((i) => Math.round(loadavg()[i === 1 ? 0 : 1]! * 100) / 100);
  loader.send("load");
  measuring = true;

  const waits = new Map<string, number>();
  let samples = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const { rows } = await observer.query("select state, coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, '-') as wait, left(query, 40) as q from pg_stat_activity where datname = $1 and pid <> $2", [database, observerPid]);
    samples += 1;
    for (const row of rows) {
      if (row.state === "idle") continue;
      const key = `${row.state} ${row.wait}${row.state === "active" ? ` ${String(row.q).replace(/\s+/g, " ")}` : ""}`;
      waits.set(key, (waits.get(key) ?? 0) + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  measuring = false;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await counters();
  let backendTicksUsed = 0;
  for (const pid of new Set([...before.pids, ...after.pids])) backendTicksUsed += ticksOf(pid) - (backendTicks.get(pid) ?? ticksOf(pid));
  const top = statements
    ? (
        await observer.query(
          `select calls, round(total_exec_time::numeric, 1) as total_ms, round(mean_exec_time::numeric, 3) as mean_ms, round(max_exec_time::numeric, 1) as max_ms, wal_bytes::bigint as wal_bytes, wal_fpi, wal_records, shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written, round(blk_read_time::numeric, 1) as read_ms, round(blk_write_time::numeric, 1) as write_ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
           from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1 order by total_exec_time desc limit 14`,
          [database],
        )
      ).rows
    : "pg_stat_statements not loaded";
  loader.send("stop");
  const result = await loadResult;
  await observer.end();
  await app.close();
  await db.close();

  const deliveries: number = result.underReconciliation.requests;
  const delta = (a: Record<string, string>, b: Record<string, string>) => Object.fromEntries(Object.keys(a).map((key) => [key, Number(b[key]) - Number(a[key])]));
  const wal = delta(before.wal, after.wal);
  const bg = delta(before.bg, after.bg);
  const dbs = delta(before.dbs, after.dbs);
  const per = (value: number) => Math.round((value / deliveries) * 100) / 100;
  console.log(
    JSON.stringify(
      {
        users,
        rate: Number(rateText),
        seconds,
        loadAverage1m5mAtStart: load,
        loadAverage1mAtEnd: Math.round(loadavg()[0]! * 100) / 100,
        sessionSql: sessionSql ?? null,
        latency: result.underReconciliation,
        warmupLatency: result.baseline,
        statuses: result.statuses,
        maxMsBySecond: result.maxMsBySecond,
        deliveries,
        commits: dbs.xact_commit,
        deliveriesPerCommit: Math.round((deliveries / Math.max(1, txTimes.work.length)) * 100) / 100,
        transactionMs: { poolAndBegin: figures(txTimes.begin), work: figures(txTimes.work), commit: figures(txTimes.commit) },
        perDelivery: {
          walBytes: per(wal.wal_bytes!),
          walRecords: per(wal.wal_records!),
          walFpi: per(wal.wal_fpi!),
          buffersBackend: per(bg.buffers_backend!),
          buffersCheckpoint: per(bg.buffers_checkpoint!),
          buffersClean: per(bg.buffers_clean!),
          blksRead: per(dbs.blks_read!),
          blksHit: per(dbs.blks_hit!),
          // Microseconds: zero unless track_io_timing is on.
          blkReadTimeUs: per(dbs.blk_read_time! * 1000),
          blkWriteTimeUs: per(dbs.blk_write_time! * 1000),
          nodeCpuUs: Math.round((cpu.user + cpu.system) / deliveries),
          backendCpuUs: Math.round((backendTicksUsed * 1_000_000) / CLOCK_TICKS_PER_SECOND / deliveries),
        },
        checkpoints: { timed: bg.checkpoints_timed, requested: bg.checkpoints_req },
        walSyncs: wal.wal_sync,
        // Milliseconds a WAL write / fsync took on average (zero unless track_wal_io_timing is on); WAL buffers filled up.
        walWriteMsEach: Math.round((wal.wal_write_time! / Math.max(1, wal.wal_write!)) * 1000) / 1000,
        walSyncMsEach: Math.round((wal.wal_sync_time! / Math.max(1, wal.wal_sync!)) * 1000) / 1000,
        walBuffersFull: wal.wal_buffers_full,
        waitSamples: samples,
        waits: Object.fromEntries([...waits.entries()].sort((a, b) => b[1] - a[1]).slice(0, 16)),
        statements: top,
      },
      null,
      1,
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

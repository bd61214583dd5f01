/**
 * npx tsx bench/pgWorkersCpu.ts — what a durable delivery costs on PostgreSQL at each
 * worker count of `serve --workers` (BENCH_PG_WORKERS, default 1,2,4): after a 2 s warm-up
 * at 300/s, a closed loop (autocannon, 64 connections, BENCH_SECONDS, default 6), with the
 * CPU of the server's process tree and of the database's backends read from /proc before
 * and after, and the group commits counted by `xact_commit`. Throughput means little on a
 * shared machine; deliveries per commit and CPU per delivery (µs) mostly do. Prints one
 * JSON line per worker count; records nothing.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { sql } from "kysely";
import { setCatalogueProduct } from "../src/catalogue/setCatalogueProduct.js";
import { createTestDatabase } from "../test/support/testDatabase.js";
import { runClosedLoop } from "./closedLoop.js";
import { runOpenLoop, startServer, stopServer } from "./openLoop.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "./paynowLoad.js";
import { CLOCK_TICKS_PER_SECOND, readProcStat } from "./procStat.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const WORKERS = (process.env.BENCH_PG_WORKERS ?? "1,2,4").split(",").map(Number);
const CONNECTIONS = 64;

const secrets = [randomBytes(24).toString("hex")];
const serverEnv = { PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test" };

/** A process's parent and its CPU seconds (user + system), or null once it is gone. */
function processStat(pid: number): { parent: number; cpuSeconds: number } | null {
  try {
    const { parent, ticks } = readProcStat(`/proc/${pid}/stat`);
    return { parent, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** `root` and every process below it (the cluster's workers). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number)) {
    const stat = processStat(pid);
    if (stat) children.set(stat.parent, [...(children.get(stat.parent) ?? []), pid]);
  }
  const tree: number[] = [];
  for (const stack = [root]; stack.length > 0; ) {
    const pid = stack.pop()!;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

const cpuSeconds = (pids: number[]) => pids.reduce((sum, pid) => sum + (processStat(pid)?.cpuSeconds ?? 0), 0);

for (const workers of WORKERS) {
  const database = await createTestDatabase("postgres");
  const { db, url } = database;
  try {
    await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now: new Date() });
    const { child, port } = await startServer("reckon", { ...serverEnv, DATABASE_URL: url, BENCH_WORKERS: String(workers) }, [], 180_000);
    try {
      const load = new PaynowLoad(secrets);
      const warmUp = await runOpenLoop({ port, ratePerSecond: 300, durationMs: 2_000, shot: (index) => load.shot(index), timeoutMs: 15_000 });
      const name = (await sql<{ name: string }>`select current_database() as name`.execute(db.kysely)).rows[0]!.name;
      const backends = (
        await sql<{ pid: number }>`select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`.execute(db.kysely)
      ).rows.map((row) => Number(row.pid));
      const commits = async () => {
        await sql`select pg_stat_force_next_flush()`.execute(db.kysely);
        const { rows } = await sql<{ commits: string }>`select xact_commit as commits from pg_stat_database where datname = ${name}`.execute(db.kysely);
        return Number(rows[0]!.commits);
      };
      const server = processTree(child.pid!);
      const commitsBefore = await commits();
      const serverBefore = cpuSeconds(server);
      const backendsBefore = cpuSeconds(backends);
      const closed = await runClosedLoop({ port, connections: CONNECTIONS, seconds: SECONDS, shot: (index) => load.shot(warmUp.sent + index) });
      const serverSeconds = cpuSeconds(server) - serverBefore;
      const backendSeconds = cpuSeconds(backends) - backendsBefore;
      // The two reads of the counters are commits too.
      const batches = (await commits()) - commitsBefore - 2;
      const acked = closed.ackedPerSecond * SECONDS;
      const perDelivery = (seconds: number) => Math.round((seconds * 1e6) / acked);
      console.log(
        JSON.stringify({
          workers,
          ackedPerSecond: closed.ackedPerSecond,
          p99Ms: closed.latencyMs.p99,
          deliveriesPerCommit: Math.round((acked / batches) * 10) / 10,
          cpuUsPerDelivery: { serverNode: perDelivery(serverSeconds), backends: perDelivery(backendSeconds) },
          backends: backends.length,
          loadAverage: loadavg()[0]!.toFixed(1),
        }),
      );
    } finally {
      await stopServer(child);
    }
  } finally {
    await database.drop();
  }
}

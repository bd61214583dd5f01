import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import pino, { type Logger } from "pino";
import type { Config } from "../config.js";
import { prepareDatabase } from "./prepareDatabase.js";
import { serve } from "./serve.js";

/** How `reckon serve` is running, whichever process this is. */
export interface Serving {
  url: string;
  dialect: "sqlite" | "postgres";
  /** Processes answering requests: 1 without `--workers`. */
  workers: number;
  /** This is the process that prints, logs and stops the others (the only one with `--workers 1`). */
  primary: boolean;
  /** Drains requests and closes the database; the primary stops every worker first. */
  stop(): Promise<void>;
}

export class WorkersRefusedError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "WorkersRefusedError";
  }
}

/** `--workers`: a whole number from 1 to 64, or `auto` (one per core this process may use). */
export type WorkersOption = number | "auto";

export function parseWorkersOption(value: string): WorkersOption {
  if (value === "auto") return "auto";
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > 64) throw new Error("expected auto or a whole number from 1 to 64");
  return Number(value);
}

const isSqlite = (config: Config) => config.database.url.startsWith("file:");

/**
 * How many processes serve: `auto` is one per core on PostgreSQL and 1 on SQLite, whose
 * single writer per file cannot be shared by processes; an explicit number above 1 on
 * SQLite is refused (docs/decisions/serve-workers.md).
 */
export function resolveWorkers(option: WorkersOption, config: Config): number {
  if (option === "auto") return isSqlite(config) ? 1 : availableParallelism();
  if (option > 1 && isSqlite(config)) {
    throw new WorkersRefusedError(
      `--workers ${option} needs PostgreSQL: SQLite has one writer per database file, so Reckon on SQLite serves from one process. ` +
        "Use --workers 1 (the default) or point DATABASE_URL at PostgreSQL.",
    );
  }
  return option;
}

/** Each worker's share of DB_POOL_SIZE, which stays the whole budget of connections: at least 2. */
export function workerPoolSize(poolSize: number, workers: number): number {
  return Math.max(2, Math.ceil(poolSize / workers));
}

/** Restarts of dead workers allowed within RESTART_WINDOW_MS before the primary gives up. */
export const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

type WorkerMessage = { reckon: "listening"; url: string; dialect: "sqlite" | "postgres" };

/**
 * `reckon serve --workers N`. With N = 1 (and in each worker) this process serves
 * (`serve`). With N > 1 the primary migrates the database once, then forks N workers
 * (node:cluster) that run the same command and share the port; each opens its own pool
 * of `workerPoolSize` connections. A worker that dies is logged and restarted, at most
 * MAX_RESTARTS times a minute; past that the primary stops the rest and fails.
 */
export async function serveWorkers(config: Config, options: { workers: WorkersOption; log: boolean }): Promise<Serving> {
  if (cluster.isWorker) return serveInWorker(config, options.log);
  const workers = resolveWorkers(options.workers, config);
  if (workers === 1) {
    const server = await serve(config, options);
    return { url: server.url, dialect: server.db.dialect, workers: 1, primary: true, stop: server.stop };
  }
  return runPrimary(config, workers, options.log);
}

async function serveInWorker(config: Config, log: boolean): Promise<Serving> {
  // N workers already commit N batches at once on 2 cores: a second batch per worker only split
  // the load into smaller batches, each costing the same round trips (webhook-durability.md).
  const server = await serve(config, { log, oneBatchAtATime: true });
  const message: WorkerMessage = { reckon: "listening", url: server.url, dialect: server.db.dialect };
  process.send?.(message);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= server.stop());
  // The primary is gone (killed): nobody will ask this worker to stop, so it stops itself.
  process.once("disconnect", () => {
    stop().finally(() => process.exit(0));
  });
  return { url: server.url, dialect: server.db.dialect, workers: 1, primary: false, stop };
}

async function runPrimary(config: Config, count: number, log: boolean): Promise<Serving> {
  const logger: Logger = pino({ level: log ? config.logLevel : "silent" });
  // Migrations run once, here, before any worker opens the database.
  await (await prepareDatabase(config)).close();
  const env = { DB_POOL_SIZE: String(workerPoolSize(config.database.poolSize, count)) };
  const restarts: number[] = [];
  let stopping = false;
  let failed: ((error: Error) => void) | undefined;
  let started: { url: string; dialect: "sqlite" | "postgres" } | undefined;

  const fork = (index: number): Worker => {
    const worker = cluster.fork({ ...env, RECKON_WORKER_INDEX: String(index) });
    worker.on("exit", (code, signal) => {
      if (stopping) return;
      if (!started) {
        failed?.(new Error(`worker ${index} (pid ${worker.process.pid}) exited with ${signal ?? code} before it was listening`));
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        logger.fatal({ worker: index, pid: worker.process.pid, code, signal }, `worker died; more than ${MAX_RESTARTS} restarts in a minute, stopping`);
        process.exitCode = 1;
        void stop();
        return;
      }
      logger.error({ worker: index, pid: worker.process.pid, code, signal, restarts: restarts.length }, "worker died; restarting it");
      workers[index] = fork(index);
    });
    return worker;
  };

  const workers: Worker[] = [];
  const listening = new Promise<{ url: string; dialect: "sqlite" | "postgres" }>((resolve, reject) => {
    let ready = 0;
    failed = reject;
    const timer = setTimeout(() => reject(new Error(`workers were not all listening after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    cluster.on("message", function onMessage(_worker, message: WorkerMessage) {
      if (message?.reckon !== "listening") return;
      if (++ready === count) {
        clearTimeout(timer);
        cluster.off("message", onMessage);
        resolve({ url: message.url, dialect: message.dialect });
      }
    });
  });
  for (let index = 0; index < count; index++) workers.push(fork(index));

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      await Promise.all(workers.map(stopWorker));
    })());
  try {
    started = await listening;
  } catch (error) {
    await stop();
    throw error;
  }
  logger.info({ workers: count, pids: workers.map((worker) => worker.process.pid), poolSizePerWorker: Number(env.DB_POOL_SIZE) }, "workers listening");
  return { ...started, workers: count, primary: true, stop };
}

/** SIGTERM (the worker drains and exits); SIGKILL if it has not exited within STOP_TIMEOUT_MS. */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve();
    const timer = setTimeout(() => worker.process.kill("SIGKILL"), STOP_TIMEOUT_MS);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    worker.process.kill("SIGTERM");
  });
}

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** How often a process executing a run writes the run's heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** A run held on another machine whose heartbeat is older than this is abandoned. */
export const LEASE_MS = 60_000;

/** One run as one holder executes it; every write the run makes is fenced by `holder`. */
export interface RunHandle {
  id: string;
  /** `host:pid:token`: the process, and which of its executions of the run. */
  holder: string;
}

/**
 * Thrown when the run's record is no longer held by this execution: it was cancelled,
 * or taken over after its lease expired. The batch that found out rolls back, and the
 * execution stops without touching the record.
 */
export class RunNotHeld extends Error {
  constructor(readonly runId: string) {
    super(`backfill ${runId} is no longer held by this process`);
    this.name = "RunNotHeld";
  }
}

const THIS_HOST = hostname();
/** Holders of the runs this process is executing right now. */
const executing = new Set<string>();

export function newHolder(): string {
  return `${THIS_HOST}:${process.pid}:${randomBytes(6).toString("hex")}`;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the holder of a `running` record may still be executing it. This process
 * knows its own runs exactly (a run whose promise ended without ending its record is
 * dead, and so is one recorded by an earlier process with the same pid); another
 * process on this machine is alive while its pid is; a holder elsewhere is alive while
 * its heartbeat is younger than the lease. The pid check matters on SQLite, where a
 * long dry run holds the only connection and its heartbeat cannot be written.
 */
export function holderIsAlive(holder: string | null, lastSignOfLife: string, now: Date): boolean {
  if (holder !== null) {
    const [host, pid] = holder.split(":");
    if (host === THIS_HOST && pid === String(process.pid)) return executing.has(holder);
    if (host === THIS_HOST && pid !== undefined && /^\d+$/.test(pid)) return processExists(Number(pid));
  }
  return now.getTime() - Date.parse(lastSignOfLife) < LEASE_MS;
}

/**
 * Marks `run` as executed by this process and writes its heartbeat every
 * HEARTBEAT_INTERVAL_MS until the returned function is called. A heartbeat that
 * fails is not retried: the next one, or the lease running out, settles it.
 */
export function holdRun(db: Kysely<Schema>, run: RunHandle, now: () => Date): () => void {
  executing.add(run.holder);
  const beat = () => {
    db.updateTable("data_migrations")
      .set({ heartbeat_at: now().toISOString() })
      .where("id", "=", run.id)
      .where("holder", "=", run.holder)
      .where("status", "=", "running")
      .execute()
      .catch(() => undefined);
  };
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    executing.delete(run.holder);
  };
}

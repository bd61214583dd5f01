import { markStoredStateChanged } from "../ops/storedStateChanged.js";
import { readBackfillRun, runFailure, type BackfillRun, type BackfillRunStatus, type RunFailure } from "./backfillRuns.js";
import type { BackfillDeps } from "./startBackfill.js";
import { RunNotHeld, type RunHandle } from "./runLease.js";
import { unreachable } from "../unreachable.js";

/** How a step of a run left it; `guardRun` turns it into the record's final state. */
export type Ending =
  /** The run is over: end its record with this status. */
  | { end: "finished"; status: Exclude<BackfillRunStatus, "running" | "cancelled">; failure: RunFailure | null }
  /** The record is no longer this execution's (cancelled, or taken over): leave it alone. */
  | { end: "lost" };

/**
 * A run's SQLite page cache, in KiB, on the connection it writes through: a replay reads the
 * same wallets and index pages batch after batch (200k events: 3,612/s with a 2 MiB cache,
 * 3,870/s with 64 MiB), so the run raises the connection's cache to this and sets it back
 * when it ends, and a serving connection keeps its own, smaller one in between
 * (docs/decisions/sqlite-cache-sizes.md).
 */
export const BACKFILL_CACHE_KIB = 65_536;

/** Attempts at writing a run's end before giving up (the lease then frees the record). */
const ENDING_ATTEMPTS = 3;

/**
 * Executes `run` with the backfill's page cache (`BACKFILL_CACHE_KIB`, set back before the
 * ending is written) and ends its record whatever `execute` does: returns an ending, throws,
 * or rejects. The caller took the hold (`holdRun`) before it wrote the record; it is
 * released only after the ending is written, or after every attempt to write it failed, and
 * then the record is dead to `holderIsAlive` and the next start or resume takes it over. So
 * no path leaves a record `running` with nobody executing it.
 */
export async function guardRun(
  deps: BackfillDeps,
  run: RunHandle,
  release: () => void,
  execute: () => Promise<Ending>,
): Promise<BackfillRun> {
  try {
    let ending: Ending;
    try {
      ending = await deps.db.engine.withPageCache(BACKFILL_CACHE_KIB, execute);
    } catch (error) {
      ending = error instanceof RunNotHeld ? { end: "lost" } : { end: "finished", status: "failed", failure: runFailure("run_failed", error) };
    }
    switch (ending.end) {
      case "finished":
        return await endRun(deps, run, ending.status, ending.failure);
      case "lost":
        return (await readBackfillRun(deps.db.kysely, run.id))!;
    }
    return unreachable(ending, "run ending");
  } finally {
    release();
  }
}

/** Ends a record this execution holds; a record cancelled or taken over meanwhile keeps its state. */
async function endRun(
  deps: BackfillDeps,
  run: RunHandle,
  status: Exclude<BackfillRunStatus, "running">,
  failure: RunFailure | null,
): Promise<BackfillRun> {
  for (let attempt = 1; ; attempt++) {
    const now = deps.now().toISOString();
    try {
      await deps.db.kysely
        .updateTable("data_migrations")
        .set({
          status,
          finished_at: now,
          updated_at: now,
          holder: null,
          failure_reason: failure?.reason ?? null,
          failure_detail: failure?.detail ?? null,
        })
        .where("id", "=", run.id)
        .where("holder", "=", run.holder)
        .where("status", "=", "running")
        .execute();
      break;
    } catch (error) {
      if (attempt >= ENDING_ATTEMPTS) throw error;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 200 * attempt));
    }
  }
  markStoredStateChanged();
  return (await readBackfillRun(deps.db.kysely, run.id))!;
}

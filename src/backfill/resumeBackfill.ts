import { isUniqueViolation } from "../storage/isUniqueViolation.js";
import { abandonStaleRuns } from "./abandonStaleRuns.js";
import type { BackfillRequest } from "./BackfillRequest.js";
import { guardRun } from "./guardRun.js";
import { readBackfillRun, type BackfillRun } from "./backfillRuns.js";
import type { BackfillDeps } from "./startBackfill.js";
import { runBatches } from "./runBatches.js";
import { runProviderSync } from "../providerSync/runProviderSync.js";
import { holdRun, newHolder, type RunHandle } from "./runLease.js";

export type ResumeOutcome =
  | { outcome: "resumed"; record: BackfillRun; done: Promise<BackfillRun> }
  | { outcome: "not_found" }
  /** Completed, cancelled, partial, a dry run, or refused its plan: nothing to continue. */
  | { outcome: "not_resumable"; status: string }
  /** Its holder is alive (this process's run, a live process here, or a fresh heartbeat elsewhere). */
  | { outcome: "still_running"; holder: string | null };

/**
 * Continues an interrupted run from its cursor, with what remains of its `maxEvents`.
 * A `running` record whose holder is dead is first ended as abandoned, like any other
 * failed run. The cursor moved only with committed batches, so the result equals a run
 * that was never interrupted.
 */
export async function resumeBackfill(deps: BackfillDeps, id: string): Promise<ResumeOutcome> {
  const found = await readBackfillRun(deps.db.kysely, id);
  if (!found) return { outcome: "not_found" };
  // Frees this record if its holder is dead, and the type's slot if another dead run holds it.
  await abandonStaleRuns(deps.db.kysely, found.type, deps.now());
  const record = (await readBackfillRun(deps.db.kysely, id))!;
  if (record.status === "running") {
    const row = await deps.db.kysely.selectFrom("data_migrations").select("holder").where("id", "=", id).executeTakeFirstOrThrow();
    return { outcome: "still_running", holder: row.holder };
  }
  if (record.dryRun) return { outcome: "not_resumable", status: "dry_run" };
  // A refused plan stays refused: resuming would apply what nobody approved.
  if (record.status !== "failed" || record.failure?.reason === "plan_changed") {
    return { outcome: "not_resumable", status: record.failure?.reason === "plan_changed" ? "plan_changed" : record.status };
  }
  const run: RunHandle = { id, holder: newHolder() };
  const now = deps.now().toISOString();
  const release = holdRun(deps.db.kysely, run, deps.now);
  let taken;
  try {
    taken = await deps.db.kysely
      .updateTable("data_migrations")
      .set({ status: "running", holder: run.holder, heartbeat_at: now, finished_at: null, updated_at: now, failure_reason: null, failure_detail: null })
      .where("id", "=", id)
      .where("status", "=", "failed")
      .executeTakeFirst();
  } catch (error) {
    release();
    // Another run of the same type started since this one failed; it holds the slot.
    if (isUniqueViolation(error)) return { outcome: "not_resumable", status: "another_run_of_this_type_is_running" };
    throw error;
  }
  if (Number(taken.numUpdatedRows) !== 1) {
    release();
    return { outcome: "still_running", holder: null };
  }
  const request: BackfillRequest = { type: record.type, ...record.params };
  const done = guardRun(deps, run, release, () =>
    request.type === "provider_sync"
      ? runProviderSync(deps, run, request, { cursor: record.syncCursor, scanned: record.scanned })
      : runBatches(deps, run, request, { cursor: record.cursor, scanned: record.scanned }),
  );
  return { outcome: "resumed", record: (await readBackfillRun(deps.db.kysely, id))!, done };
}

/** Asks a running backfill to stop after its current batch. */
export async function cancelBackfill(deps: Pick<BackfillDeps, "db" | "now">, id: string): Promise<BackfillRun | null> {
  const now = deps.now().toISOString();
  await deps.db.kysely
    .updateTable("data_migrations")
    .set({ status: "cancelled", finished_at: now, updated_at: now, holder: null })
    .where("id", "=", id)
    .where("status", "=", "running")
    .execute();
  return readBackfillRun(deps.db.kysely, id);
}

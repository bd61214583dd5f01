import { hostname } from "node:os";
import { isUniqueViolation } from "../storage/isUniqueViolation.js";
import type { BackfillRequest } from "./BackfillRequest.js";
import { readMigration, type MigrationRecord } from "./migrationRecords.js";
import { HOLDER, runBatches, type BackfillDeps } from "./runBackfill.js";

/** A run whose holder is on another machine counts as dead after this long without progress. */
export const STALE_AFTER_MS = 120_000;

export type ResumeOutcome =
  | { outcome: "resumed"; record: MigrationRecord; done: Promise<MigrationRecord> }
  | { outcome: "not_found" }
  /** Completed, cancelled, partial or a dry run: nothing to continue. */
  | { outcome: "not_resumable"; status: string }
  /** Its process is alive (or, elsewhere, made progress recently). */
  | { outcome: "still_running"; holder: string | null };

function holderIsAlive(holder: string | null, updatedAt: string, now: Date): boolean {
  if (holder === null) return false;
  const [host, pid] = holder.split(":");
  if (host === hostname() && pid !== undefined) {
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch {
      return false;
    }
  }
  return now.getTime() - Date.parse(updatedAt) < STALE_AFTER_MS;
}

/**
 * Continues an interrupted run from its cursor, with what remains of its `maxEvents`.
 * The cursor moved only with committed batches, so the result equals a run that was
 * never interrupted.
 */
export async function resumeBackfill(deps: BackfillDeps, id: string): Promise<ResumeOutcome> {
  const record = await readMigration(deps.db.kysely, id);
  if (!record) return { outcome: "not_found" };
  if (record.dryRun || !["running", "failed"].includes(record.status)) {
    return { outcome: "not_resumable", status: record.dryRun ? "dry_run" : record.status };
  }
  const row = await deps.db.kysely.selectFrom("data_migrations").select("holder").where("id", "=", id).executeTakeFirstOrThrow();
  if (record.status === "running" && holderIsAlive(row.holder, record.updatedAt, deps.now())) {
    return { outcome: "still_running", holder: row.holder };
  }
  let taken;
  try {
    taken = await deps.db.kysely
      .updateTable("data_migrations")
      .set({ status: "running", holder: HOLDER, finished_at: null, updated_at: deps.now().toISOString() })
      .where("id", "=", id)
      .where("status", "=", record.status)
      .executeTakeFirst();
  } catch (error) {
    // Another run of the same type started since this one failed; it holds the slot.
    if (isUniqueViolation(error)) return { outcome: "not_resumable", status: "another_run_of_this_type_is_running" };
    throw error;
  }
  if (Number(taken.numUpdatedRows) !== 1) return { outcome: "still_running", holder: null };
  const request: BackfillRequest = { type: record.type, ...record.params };
  const resumed = (await readMigration(deps.db.kysely, id))!;
  return {
    outcome: "resumed",
    record: resumed,
    done: runBatches(deps, id, request, { cursor: record.cursor, scanned: record.scanned }),
  };
}

/** Asks a running backfill to stop after its current batch. */
export async function cancelBackfill(deps: Pick<BackfillDeps, "db" | "now">, id: string): Promise<MigrationRecord | null> {
  const now = deps.now().toISOString();
  await deps.db.kysely
    .updateTable("data_migrations")
    .set({ status: "cancelled", finished_at: now, updated_at: now, holder: null })
    .where("id", "=", id)
    .where("status", "=", "running")
    .execute();
  return readMigration(deps.db.kysely, id);
}

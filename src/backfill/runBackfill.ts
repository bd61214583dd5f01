import { hostname } from "node:os";
import type { ReversalPolicy } from "../config.js";
import { isUniqueViolation } from "../storage/isUniqueViolation.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { applyBatch } from "./applyBatch.js";
import { rangeOf, type BackfillRequest } from "./BackfillRequest.js";
import { computePlan } from "./computePlan.js";
import { backfillErrorRate, backfillProcessedEvents } from "./metrics.js";
import {
  PLAN_SAMPLE_LIMIT,
  readMigration,
  runFailure,
  saveProgress,
  type MigrationRecord,
  type MigrationStatus,
} from "./migrationRecords.js";
import { refreshScanStatistics, selectBatch } from "./selectBatch.js";

export interface BackfillDeps {
  db: Db;
  now: () => Date;
  newId: () => string;
  reversalPolicy: ReversalPolicy;
  batchSize: number;
  /** Called after each committed batch with the record as saved (progress bars). */
  onProgress?: (record: MigrationRecord) => void;
}

export type StartOutcome =
  /** The run is going (or, for a dry run, done); `done` settles with its final record. */
  | { outcome: "started"; record: MigrationRecord; done: Promise<MigrationRecord> }
  /** Another run of this type holds the slot; nothing was written. */
  | { outcome: "already_running"; runningId: string }
  /** The plan computed now differs from the one approved; the record says so. */
  | { outcome: "plan_changed"; expected: string; actual: string; record: MigrationRecord };

export const HOLDER = `${hostname()}:${process.pid}`;

/**
 * Starts a backfill. A dry run computes its plan in a transaction that is rolled back,
 * so it writes nothing but its own record. A run given a plan hash first computes the
 * plan the same way and refuses to apply a different one.
 */
export async function startBackfill(deps: BackfillDeps, request: BackfillRequest): Promise<StartOutcome> {
  const id = deps.newId();
  const now = deps.now().toISOString();
  const { type, ...params } = request;
  try {
    await deps.db.kysely
      .insertInto("data_migrations")
      .values({
        id,
        type,
        params: JSON.stringify(params),
        dry_run: request.dryRun ? 1 : 0,
        status: "running",
        max_events: request.maxEvents,
        holder: HOLDER,
        started_at: now,
        updated_at: now,
      })
      .execute();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const running = await deps.db.kysely
      .selectFrom("data_migrations")
      .select("id")
      .where("type", "=", type)
      .where("status", "=", "running")
      .executeTakeFirst();
    return { outcome: "already_running", runningId: running?.id ?? "unknown" };
  }

  if (request.dryRun || request.planHash !== null) {
    const plan = await computePlan(deps, request);
    if (request.dryRun) {
      await deps.db.kysely
        .updateTable("data_migrations")
        .set({
          scanned: plan.progress.scanned,
          processed: plan.progress.processed,
          skipped: plan.progress.skipped,
          errors: plan.progress.errors,
          error_samples: JSON.stringify(plan.progress.errorSamples),
          plan_hash: plan.hash,
          planned_entries: plan.entries.length,
          plan_sample: JSON.stringify(plan.entries.slice(0, PLAN_SAMPLE_LIMIT)),
        })
        .where("id", "=", id)
        .execute();
      const record = await finish(deps, id, plan.progress.errors > 0 ? "partial" : "completed");
      return { outcome: "started", record, done: Promise.resolve(record) };
    }
    const approved = request.planHash ?? "";
    if (plan.hash !== approved) {
      await saveProgress(deps.db.kysely, id, runFailure("plan_changed", `approved ${approved}, now ${plan.hash}`), deps.now());
      const record = await finish(deps, id, "failed");
      return { outcome: "plan_changed", expected: approved, actual: plan.hash, record };
    }
  }
  const record = (await readMigration(deps.db.kysely, id))!;
  return { outcome: "started", record, done: runBatches(deps, id, request, { cursor: null, scanned: 0 }) };
}

/**
 * Applies the run batch by batch from `start`. Each batch commits together with the
 * record's counts and cursor, so a run killed at any point resumes exactly where its
 * last commit left it.
 */
export async function runBatches(
  deps: BackfillDeps,
  id: string,
  request: BackfillRequest,
  start: { cursor: number | null; scanned: number },
): Promise<MigrationRecord> {
  const { from, to } = rangeOf(request);
  let cursor = start.cursor ?? 0;
  let scanned = start.scanned;
  let exhausted = false;
  try {
    await refreshScanStatistics(deps.db.kysely);
    while (scanned < request.maxEvents) {
      const current = await readMigration(deps.db.kysely, id);
      if (current?.status === "cancelled") return current;
      const limit = Math.min(deps.batchSize, request.maxEvents - scanned);
      const batch = await withTransaction(deps.db, async (trx) => {
        const rows = await selectBatch(trx, request.type, { from, to, afterId: cursor, limit });
        if (rows.length === 0) return null;
        const now = deps.now();
        const progress = await applyBatch(trx, request.type, rows, { now, reversalPolicy: deps.reversalPolicy });
        await saveProgress(trx, id, progress, now);
        return progress;
      });
      if (batch === null) {
        exhausted = true;
        break;
      }
      cursor = batch.cursor ?? cursor;
      scanned += batch.scanned;
      backfillProcessedEvents.inc({ type: request.type, outcome: "processed" }, batch.processed);
      backfillProcessedEvents.inc({ type: request.type, outcome: "skipped" }, batch.skipped);
      backfillProcessedEvents.inc({ type: request.type, outcome: "error" }, batch.errors);
      deps.onProgress?.((await readMigration(deps.db.kysely, id))!);
    }
    const saved = (await readMigration(deps.db.kysely, id))!;
    const more = !exhausted && (await selectBatch(deps.db.kysely, request.type, { from, to, afterId: cursor, limit: 1 })).length > 0;
    return await finish(deps, id, saved.errors > 0 || more ? "partial" : "completed");
  } catch (error) {
    await saveProgress(deps.db.kysely, id, runFailure("run_failed", (error as Error).message), deps.now());
    return finish(deps, id, "failed");
  }
}

/** Ends a running record; a record cancelled meanwhile keeps its status. */
async function finish(deps: BackfillDeps, id: string, status: MigrationStatus): Promise<MigrationRecord> {
  const now = deps.now().toISOString();
  await deps.db.kysely
    .updateTable("data_migrations")
    .set({ status, finished_at: now, updated_at: now, holder: null })
    .where("id", "=", id)
    .where("status", "=", "running")
    .execute();
  const record = (await readMigration(deps.db.kysely, id))!;
  backfillErrorRate.set({ type: record.type }, record.scanned === 0 ? 0 : record.errors / record.scanned);
  return record;
}

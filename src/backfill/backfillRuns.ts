import type { Kysely, Selectable } from "kysely";
import type { DataMigrationsTable, Schema } from "../storage/schema.js";
import type { BackfillRequest, BackfillType } from "./BackfillRequest.js";
import { RunNotHeld, type RunHandle } from "./runLease.js";

export type BackfillRunStatus = "running" | "completed" | "failed" | "partial" | "cancelled";

/** How many failures a record keeps as examples; the count keeps growing past it. */
export const ERROR_SAMPLE_LIMIT = 20;
/** How many planned entries a dry run keeps on its record; the hash covers them all. */
export const PLAN_SAMPLE_LIMIT = 200;

export interface ErrorSample {
  eventId: string;
  reason: string;
  detail?: string;
}

/** Why a run itself ended `failed`, apart from its events' errors. */
export interface RunFailure {
  /** `provider_failed`: a provider sync could not read the provider's API; resume it from its cursor. */
  reason: "abandoned" | "run_failed" | "plan_changed" | "provider_failed";
  detail: string;
}

export interface PlannedEntry {
  uid: string;
  kind: string;
  amount: number;
  key: string;
}

/** A run's record: its counts and cursor (see Progress) plus what it is and where it stands. */
export interface BackfillRun extends Progress {
  id: string;
  type: BackfillType;
  params: Omit<BackfillRequest, "type">;
  dryRun: boolean;
  status: BackfillRunStatus;
  planHash: string | null;
  plannedEntries: number;
  planSample: PlannedEntry[];
  /** Set when the run itself broke, was abandoned by a dead holder, or found its plan changed. */
  failure: RunFailure | null;
  startedAt: string;
  finishedAt: string | null;
  updatedAt: string;
  /** When its holder last said it was alive; a silent run is taken over (docs/decisions/backfill-never-stuck.md). */
  heartbeatAt: string | null;
  /** Events scanned per second over the run so far. */
  ratePerSecond: number;
  /** Provider sync: where its walk of the provider's records stands (opaque); null for the other types. */
  syncCursor: string | null;
  /** Provider sync: the findings it saw (a dry run's too), and the first of them. */
  findingsFound: number;
  findingsSample: FindingSample[];
}

/** A finding as a run's record lists it (the stored finding has the rest). */
export interface FindingSample {
  kind: string;
  subject: string;
  status: string;
  date: string;
  uid: string | null;
  amountMinor: number | null;
}

/** How many findings a record lists; `findingsFound` keeps counting past it. */
export const FINDINGS_SAMPLE_LIMIT = 200;

export function toBackfillRun(row: Selectable<DataMigrationsTable>): BackfillRun {
  const ended = row.finished_at ?? row.updated_at;
  const seconds = Math.max(0.001, (Date.parse(ended) - Date.parse(row.started_at)) / 1000);
  return {
    id: row.id,
    type: row.type as BackfillType,
    params: { provider: null, ...JSON.parse(row.params) },
    dryRun: row.dry_run === 1,
    status: row.status as BackfillRunStatus,
    scanned: row.scanned,
    processed: row.processed,
    skipped: row.skipped,
    errors: row.errors,
    errorSamples: JSON.parse(row.error_samples),
    cursor: row.cursor === null || row.type === "provider_sync" ? null : Number(row.cursor),
    planHash: row.plan_hash,
    plannedEntries: row.planned_entries,
    planSample: JSON.parse(row.plan_sample),
    failure: row.failure_reason === null ? null : { reason: row.failure_reason as RunFailure["reason"], detail: row.failure_detail ?? "" },
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    heartbeatAt: row.heartbeat_at,
    ratePerSecond: Math.round(row.scanned / seconds),
    syncCursor: row.type === "provider_sync" ? row.cursor : null,
    findingsFound: Number(row.findings_found),
    findingsSample: JSON.parse(row.findings_sample),
  };
}

export async function readBackfillRun(db: Kysely<Schema>, id: string): Promise<BackfillRun | null> {
  const row = await db.selectFrom("data_migrations").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toBackfillRun(row) : null;
}

export async function listBackfillRuns(db: Kysely<Schema>, limit: number): Promise<BackfillRun[]> {
  const rows = await db.selectFrom("data_migrations").selectAll().orderBy("started_at", "desc").orderBy("id", "desc").limit(limit).execute();
  return rows.map(toBackfillRun);
}

/** Progress made by one batch, added to the record in the batch's own transaction. */
export interface Progress {
  scanned: number;
  processed: number;
  skipped: number;
  errors: number;
  /** The first failures, at most ERROR_SAMPLE_LIMIT of them. */
  errorSamples: ErrorSample[];
  /** The id of the last webhook event finished; a resume starts after it. */
  cursor: number | null;
}

export const NO_PROGRESS: Progress = { scanned: 0, processed: 0, skipped: 0, errors: 0, errorSamples: [], cursor: null };

export function addProgress(total: Progress, batch: Progress): Progress {
  return {
    scanned: total.scanned + batch.scanned,
    processed: total.processed + batch.processed,
    skipped: total.skipped + batch.skipped,
    errors: total.errors + batch.errors,
    errorSamples: [...total.errorSamples, ...batch.errorSamples].slice(0, ERROR_SAMPLE_LIMIT),
    cursor: batch.cursor ?? total.cursor,
  };
}

/** A run's own failure from what it threw, its text bounded for the record. */
export function runFailure(reason: RunFailure["reason"], error: unknown): RunFailure {
  const detail = error instanceof Error ? error.message : String(error);
  return { reason, detail: detail.slice(0, 500) };
}

/**
 * Writes `progress` onto the record (counts added, samples bounded, cursor moved) if
 * `run` still holds it; otherwise throws RunNotHeld, so the batch that made the
 * progress rolls back with it.
 */
export async function saveProgress(db: Kysely<Schema>, run: RunHandle, progress: Progress, now: Date): Promise<void> {
  const row = await db.selectFrom("data_migrations").select("error_samples").where("id", "=", run.id).executeTakeFirstOrThrow();
  const samples = [...(JSON.parse(row.error_samples) as ErrorSample[]), ...progress.errorSamples].slice(0, ERROR_SAMPLE_LIMIT);
  await addRunProgress(
    db,
    run,
    { scanned: progress.scanned, processed: progress.processed, skipped: progress.skipped, errors: progress.errors, findingsFound: 0 },
    { error_samples: JSON.stringify(samples), ...(progress.cursor === null ? {} : { cursor: String(progress.cursor) }) },
    now,
  );
}

/** Counts a batch or page adds to its run's record. */
export interface RunCounts {
  scanned: number;
  processed: number;
  skipped: number;
  errors: number;
  findingsFound: number;
}

/**
 * The one write of a run's progress (every kind): adds `counts`, replaces `fields`
 * (samples, cursor) and beats the heartbeat, only while `run` holds the record and it is
 * running; otherwise throws RunNotHeld, so the work that made the progress rolls back.
 */
export async function addRunProgress(
  db: Kysely<Schema>,
  run: RunHandle,
  counts: RunCounts,
  fields: { error_samples?: string; findings_sample?: string; cursor?: string },
  now: Date,
): Promise<void> {
  const saved = await db
    .updateTable("data_migrations")
    .set((eb) => ({
      scanned: eb("scanned", "+", counts.scanned),
      processed: eb("processed", "+", counts.processed),
      skipped: eb("skipped", "+", counts.skipped),
      errors: eb("errors", "+", counts.errors),
      findings_found: eb("findings_found", "+", counts.findingsFound),
      ...fields,
      updated_at: now.toISOString(),
      heartbeat_at: now.toISOString(),
    }))
    .where("id", "=", run.id)
    .where("holder", "=", run.holder)
    .where("status", "=", "running")
    .executeTakeFirst();
  if (Number(saved.numUpdatedRows) !== 1) throw new RunNotHeld(run.id);
}

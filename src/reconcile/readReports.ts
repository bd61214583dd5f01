import type { Kysely, Selectable } from "kysely";
import type { ReconciliationRunsTable, Schema } from "../storage/schema.js";

export interface RunSummary {
  runId: number;
  date: string;
  status: string;
  healPolicy: string;
  startedAt: string;
  finishedAt: string | null;
  usersChecked: number;
  violations: number;
  /** Drifted users whose heal could not be written (lines that say `refused`). */
  refused: number;
  adjustmentAbsTotal: number;
  /** Place in the report chain; null until the run completes. */
  chainPosition: number | null;
  checksum: string | null;
  previousChecksum: string | null;
  error: string | null;
}

export function toRunSummary(row: Selectable<ReconciliationRunsTable>): RunSummary {
  return {
    runId: row.id,
    date: row.run_date,
    status: row.status,
    healPolicy: row.heal_policy,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    usersChecked: Number(row.users_checked),
    violations: Number(row.violations),
    refused: Number(row.refused),
    adjustmentAbsTotal: Number(row.adjustment_abs_total),
    chainPosition: row.chain_position === null ? null : Number(row.chain_position),
    checksum: row.checksum,
    previousChecksum: row.previous_checksum,
    error: row.error,
  };
}

export async function readRun(db: Kysely<Schema>, runId: number): Promise<RunSummary> {
  return toRunSummary(await db.selectFrom("reconciliation_runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow());
}

/** The report of a date: its latest run (a date may be run again, e.g. after a revert). */
export async function readReport(db: Kysely<Schema>, date: string): Promise<RunSummary | null> {
  const row = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where("run_date", "=", date)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? toRunSummary(row) : null;
}

export interface UserLineView {
  date: string;
  runId: number;
  uid: string;
  walletPoints: number;
  ledgerSum: number;
  ledgerCount: number;
  delta: number;
  action: string;
  adjustmentEntryId: number | null;
  /** Why a `refused` line was not healed (a stable code), and the refusal in words. */
  reason: string | null;
  detail: string | null;
  lineHash: string;
}

export async function readUserLine(db: Kysely<Schema>, date: string, uid: string): Promise<UserLineView | null> {
  const report = await readReport(db, date);
  if (!report) return null;
  const row = await db
    .selectFrom("reconciliation_user_reports")
    .selectAll()
    .where("run_id", "=", report.runId)
    .where("uid", "=", uid)
    .executeTakeFirst();
  if (!row) return null;
  return {
    date,
    runId: report.runId,
    uid: row.uid,
    walletPoints: Number(row.wallet_points),
    ledgerSum: Number(row.ledger_sum),
    ledgerCount: Number(row.ledger_count),
    delta: Number(row.delta),
    action: row.action,
    adjustmentEntryId: row.adjustment_entry_id === null ? null : Number(row.adjustment_entry_id),
    reason: row.reason,
    detail: row.detail,
    lineHash: row.line_hash,
  };
}

import type { Selectable } from "kysely";
import type { ReconciliationRunsTable } from "../storage/schema.js";
import { toRunSummary } from "./readReports.js";
import { runChecksum } from "./reportHashes.js";
import type { ReportProblem } from "./reportProblems.js";
import type { LinesSummary } from "./summarizeLines.js";
import type { ChainRun } from "./verifyChain.js";

/** A run row as verify and the report archive read it: every field its checksum covers. */
export interface RunRecord extends ChainRun {
  healPolicy: string;
  startedAt: string;
  finishedAt: string | null;
  usersChecked: number;
  violations: number;
  refused: number;
  adjustmentAbsTotal: number;
  checksumVersion: number;
}

export function toRunRecord(row: Selectable<ReconciliationRunsTable>): RunRecord {
  // The same figures a run summary shows, under the names its checksum and archive use.
  const { runId, date, error: _error, ...figures } = toRunSummary(row);
  return { id: Number(runId), runDate: date, ...figures, checksumVersion: Number(row.checksum_version), signature: row.signature };
}

/**
 * A run's figures against what its lines give, and its checksum recomputed from its
 * figures, its predecessor and the digest of its (recomputed) line hashes. Pure: the
 * database's verify and the archive's verify both feed it.
 */
export function checkRunFigures(run: RunRecord, summary: LinesSummary, problems: ReportProblem[]): void {
  const where = { date: run.runDate, runId: run.id };
  const fields = [
    ["users_checked", run.usersChecked, summary.usersChecked],
    ["violations", run.violations, summary.violations],
    ["adjustment_abs_total", run.adjustmentAbsTotal, summary.adjustmentAbsTotal],
    // Runs chained before refusals existed have none, and their checksum does not cover the column.
    ...(run.checksumVersion >= 2 ? [["refused", run.refused, summary.refused] as const] : []),
  ] as const;
  for (const [field, stored, fromLines] of fields) {
    if (stored !== fromLines) problems.push({ problem: "run_altered", ...where, field, stored, fromLines });
  }
  const recomputed = runChecksum(
    run.checksumVersion,
    run.previousChecksum,
    {
      runDate: run.runDate,
      healPolicy: run.healPolicy,
      usersChecked: run.usersChecked,
      violations: run.violations,
      refused: run.refused,
      adjustmentAbsTotal: run.adjustmentAbsTotal,
      chainPosition: run.chainPosition ?? 0,
      status: run.status,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    },
    summary.digest,
  );
  if (recomputed !== run.checksum) problems.push({ problem: "checksum_mismatch", ...where });
}

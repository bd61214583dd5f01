import type { Selectable } from "kysely";
import type { ReconciliationRunsTable } from "../storage/schema.js";
import { toRunSummary } from "./readReports.js";
import { runChecksum } from "./reportHashes.js";
import type { ReportProblem } from "./reportProblems.js";
import type { FindingsSummary } from "./reportFindings.js";
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
  /** The provider findings the run committed to (checksum version 3 on): their count and digest. */
  findingsCount: number;
  findingsDigest: string | null;
}

export function toRunRecord(row: Selectable<ReconciliationRunsTable>): RunRecord {
  // The same figures a run summary shows, under the names its checksum and archive use.
  const { runId, date, error: _error, ...figures } = toRunSummary(row);
  return {
    id: Number(runId),
    runDate: date,
    ...figures,
    checksumVersion: Number(row.checksum_version),
    signature: row.signature,
    findingsCount: Number(row.findings_count),
    findingsDigest: row.findings_digest,
  };
}

/**
 * A run's figures against what its lines and findings give, and its checksum recomputed
 * from its figures, its predecessor and the digests of its (recomputed) line and finding
 * hashes. Pure: the database's verify and the archive's verify both feed it. `findings`
 * is what the run's committed findings give (none for runs before checksum version 3).
 */
export function checkRunFigures(run: RunRecord, summary: LinesSummary, findings: FindingsSummary | null, problems: ReportProblem[]): void {
  const where = { date: run.runDate, runId: run.id };
  const fields = [
    ["users_checked", run.usersChecked, summary.usersChecked],
    ["violations", run.violations, summary.violations],
    ["adjustment_abs_total", run.adjustmentAbsTotal, summary.adjustmentAbsTotal],
    // Runs chained before refusals existed have none, and their checksum does not cover the column.
    ...(run.checksumVersion >= 2 ? [["refused", run.refused, summary.refused] as const] : []),
    ...(run.checksumVersion >= 3 ? [["findings_count", run.findingsCount, findings?.count ?? 0] as const] : []),
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
      findings: { count: run.findingsCount, digest: run.findingsDigest },
    },
    summary.digest,
  );
  if (recomputed !== run.checksum) problems.push({ problem: "checksum_mismatch", ...where });
  // The checksum covers the digest stored on the run; the findings must still give it.
  if (run.checksumVersion >= 3 && run.findingsDigest !== (findings?.digest ?? null)) problems.push({ problem: "findings_altered", ...where });
}

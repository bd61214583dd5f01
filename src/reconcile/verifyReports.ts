import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { summarizeLines } from "./finalizeRun.js";
import { runChecksum } from "./reportHashes.js";

export type ReportProblem =
  /** A line's fields no longer match its hash: someone edited it. */
  | { problem: "line_altered"; date: string; runId: number; uid: string }
  /** A figure of the run row disagrees with its lines. */
  | { problem: "run_altered"; date: string; runId: number; field: string; stored: number; fromLines: number }
  /** The run's checksum is not the one its content and predecessor give. */
  | { problem: "checksum_mismatch"; date: string; runId: number }
  /** The run does not point at the checksum of the run before it in the chain. */
  | { problem: "chain_broken"; date: string; runId: number; chainPosition: number }
  /** A chain position is missing: a run row was deleted. */
  | { problem: "run_missing"; chainPosition: number };

export interface VerifyResult {
  ok: boolean;
  runsChecked: number;
  linesChecked: number;
  problems: ReportProblem[];
}

/**
 * Recomputes every line hash, every run's figures and checksum, and the links of
 * the chain, for the completed runs of one date or of all dates. Reads only.
 */
export async function verifyReports(db: Kysely<Schema>, scope: { date?: string } = {}): Promise<VerifyResult> {
  const runs = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where("chain_position", "is not", null)
    .orderBy("chain_position")
    .execute();
  const problems: ReportProblem[] = [];
  let runsChecked = 0;
  let linesChecked = 0;
  let previous: { checksum: string | null; position: number } = { checksum: null, position: 0 };
  for (const run of runs) {
    const position = Number(run.chain_position);
    for (let missing = previous.position + 1; missing < position; missing++) {
      if (scope.date === undefined) problems.push({ problem: "run_missing", chainPosition: missing });
    }
    const expectedPrevious = position === previous.position + 1 ? previous.checksum : undefined;
    previous = { checksum: run.checksum, position };
    if (scope.date !== undefined && run.run_date !== scope.date) continue;
    runsChecked += 1;
    const where = { date: run.run_date, runId: run.id };
    if (expectedPrevious !== undefined && run.previous_checksum !== expectedPrevious) {
      problems.push({ problem: "chain_broken", ...where, chainPosition: position });
    }
    const lines = await summarizeLines(db, run.id, run.run_date, (line, recomputed) => {
      linesChecked += 1;
      if (line.lineHash !== recomputed) problems.push({ problem: "line_altered", ...where, uid: line.uid });
    });
    const fields = [
      ["users_checked", Number(run.users_checked), lines.usersChecked],
      ["violations", Number(run.violations), lines.violations],
      ["adjustment_abs_total", Number(run.adjustment_abs_total), lines.adjustmentAbsTotal],
    ] as const;
    for (const [field, stored, fromLines] of fields) {
      if (stored !== fromLines) problems.push({ problem: "run_altered", ...where, field, stored, fromLines });
    }
    const recomputed = runChecksum(
      run.previous_checksum,
      {
        runDate: run.run_date,
        healPolicy: run.heal_policy,
        usersChecked: Number(run.users_checked),
        violations: Number(run.violations),
        adjustmentAbsTotal: Number(run.adjustment_abs_total),
      },
      lines.digest,
    );
    if (recomputed !== run.checksum) problems.push({ problem: "checksum_mismatch", ...where });
  }
  return { ok: problems.length === 0, runsChecked, linesChecked, problems };
}

/** One line per problem, naming the date and the user or field. */
export function describeProblem(problem: ReportProblem): string {
  switch (problem.problem) {
    case "line_altered":
      return `${problem.date}: line of user ${problem.uid} was altered (run ${problem.runId})`;
    case "run_altered":
      return `${problem.date}: run ${problem.runId} ${problem.field} is ${problem.stored} but its lines give ${problem.fromLines}`;
    case "checksum_mismatch":
      return `${problem.date}: run ${problem.runId} checksum does not match its content`;
    case "chain_broken":
      return `${problem.date}: run ${problem.runId} does not link to the run before it (chain position ${problem.chainPosition})`;
    case "run_missing":
      return `chain position ${problem.chainPosition}: the run is missing`;
    default: {
      const never: never = problem;
      throw new Error(`unhandled problem ${JSON.stringify(never)}`);
    }
  }
}

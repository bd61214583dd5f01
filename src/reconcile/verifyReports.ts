import type { KeyObject } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import type { ReconciliationRunsTable, Schema } from "../storage/schema.js";
import { readAnchor } from "./reportAnchor.js";
import { runChecksum } from "./reportHashes.js";
import type { ReportProblem } from "./reportProblems.js";
import type { ChainHead } from "./reportSigning.js";
import { summarizeLines } from "./summarizeLines.js";
import { checkAnchor, checkChain, type ChainRun } from "./verifyChain.js";

export { describeProblem, type ReportProblem } from "./reportProblems.js";

export interface VerifyOptions {
  /** Only this date's runs have their lines recomputed; the chain is always checked whole. */
  date?: string;
  /** The Ed25519 public key; without it signatures are not checked and the verdict is `unsigned`. */
  verifyKey?: KeyObject | null;
  /** The anchor file; without it truncation cannot be told apart and the verdict is `unanchored`. */
  anchorFile?: string | null;
}

/**
 * - `verified`: nothing found, every run signed and the chain matches the anchor;
 * - `failed`: problems were found (listed);
 * - `unsigned`: nothing found, but without a key a rewrite that recomputed every hash,
 *   or a deleted newest run, would look the same;
 * - `unanchored`: signatures verify, but without the anchor a deleted newest run would not show.
 */
export type Verdict = "verified" | "failed" | "unsigned" | "unanchored";

export interface VerifyResult {
  /** True only for `verified`. */
  ok: boolean;
  verdict: Verdict;
  runsChecked: number;
  linesChecked: number;
  problems: ReportProblem[];
  /** The database's chain head. */
  head: ChainHead | null;
}

function toChainRun(row: Selectable<ReconciliationRunsTable>): ChainRun {
  return {
    id: row.id,
    runDate: row.run_date,
    status: row.status,
    chainPosition: row.chain_position === null ? null : Number(row.chain_position),
    checksum: row.checksum,
    previousChecksum: row.previous_checksum,
    signature: row.signature,
  };
}

/**
 * Checks the report chain: its positions, links and signatures and the anchor (every
 * run), then, for the completed runs of one date or of all dates, every line hash,
 * every run's figures and its checksum. Reads only.
 */
export async function verifyReports(db: Kysely<Schema>, options: VerifyOptions = {}): Promise<VerifyResult> {
  const verifyKey = options.verifyKey ?? null;
  const rows = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where((eb) => eb.or([eb("chain_position", "is not", null), eb("status", "=", "completed")]))
    .orderBy("chain_position")
    .execute();
  const runs = rows.map(toChainRun);
  const problems = checkChain(runs, verifyKey);
  if (options.anchorFile) problems.push(...checkAnchor(await readAnchor(options.anchorFile), runs, verifyKey, options.anchorFile));
  let runsChecked = 0;
  let linesChecked = 0;
  for (const run of rows) {
    if (run.chain_position === null || (options.date !== undefined && run.run_date !== options.date)) continue;
    runsChecked += 1;
    linesChecked += await checkRunContent(db, run, problems);
  }
  const chained = runs.filter((run) => run.chainPosition !== null);
  const newest = chained.at(-1);
  const head = newest ? { position: newest.chainPosition!, date: newest.runDate, checksum: newest.checksum ?? "" } : null;
  const verdict: Verdict = problems.length > 0 ? "failed" : verifyKey === null ? "unsigned" : !options.anchorFile ? "unanchored" : "verified";
  return { ok: verdict === "verified", verdict, runsChecked, linesChecked, problems, head };
}

/** Recomputes one run's lines, figures and checksum; returns the number of lines read. */
async function checkRunContent(db: Kysely<Schema>, run: Selectable<ReconciliationRunsTable>, problems: ReportProblem[]): Promise<number> {
  const where = { date: run.run_date, runId: run.id };
  let lines = 0;
  const summary = await summarizeLines(db, run.id, run.run_date, (line, recomputed) => {
    lines += 1;
    if (line.lineHash !== recomputed) problems.push({ problem: "line_altered", ...where, uid: line.uid });
  });
  const version = Number(run.checksum_version);
  const fields = [
    ["users_checked", Number(run.users_checked), summary.usersChecked],
    ["violations", Number(run.violations), summary.violations],
    ["adjustment_abs_total", Number(run.adjustment_abs_total), summary.adjustmentAbsTotal],
    // Runs chained before refusals existed have none, and their checksum does not cover the column.
    ...(version >= 2 ? [["refused", Number(run.refused), summary.refused] as const] : []),
  ] as const;
  for (const [field, stored, fromLines] of fields) {
    if (stored !== fromLines) problems.push({ problem: "run_altered", ...where, field, stored, fromLines });
  }
  const recomputed = runChecksum(
    version,
    run.previous_checksum,
    {
      runDate: run.run_date,
      healPolicy: run.heal_policy,
      usersChecked: Number(run.users_checked),
      violations: Number(run.violations),
      refused: Number(run.refused),
      adjustmentAbsTotal: Number(run.adjustment_abs_total),
      chainPosition: Number(run.chain_position),
      status: run.status,
      startedAt: run.started_at,
      finishedAt: run.finished_at,
    },
    summary.digest,
  );
  if (recomputed !== run.checksum) problems.push({ problem: "checksum_mismatch", ...where });
  return lines;
}

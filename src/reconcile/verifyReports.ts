import type { KeyObject } from "node:crypto";
import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { chainBaseOf, readPrunedArchive, type PrunedArchive } from "./readArchives.js";
import { readAnchor } from "./reportAnchor.js";
import type { ReportProblem } from "./reportProblems.js";
import type { ChainHead } from "./reportSigning.js";
import { summarizeFindings, unauditedChanges, type CheckedFinding } from "./reportFindings.js";
import { summarizeLines } from "./summarizeLines.js";
import { checkRunFigures, toRunRecord, type RunRecord } from "./runRecord.js";
import { checkAnchor, checkChain } from "./verifyChain.js";

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
  /** Provider findings the checked runs committed to (`reportFindings.ts`). */
  findingsChecked: number;
  problems: ReportProblem[];
  /** The database's chain head. */
  head: ChainHead | null;
  /** The runs pruned after archiving (chain positions up to `lastPosition`), and the newest file holding them; null when none were pruned. */
  archived: PrunedArchive | null;
}

/**
 * Checks the report chain: its positions, links and signatures and the anchor (every
 * run), then, for the completed runs of one date or of all dates, every line hash,
 * every committed provider finding's hash and any change to it since, every run's
 * figures and its checksum. Reads only.
 */
export async function verifyReports(db: Kysely<Schema>, options: VerifyOptions = {}): Promise<VerifyResult> {
  const verifyKey = options.verifyKey ?? null;
  const rows = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where((eb) => eb.or([eb("chain_position", "is not", null), eb("status", "=", "completed")]))
    .orderBy("chain_position")
    .execute();
  const runs = rows.map(toRunRecord);
  const archived = await readPrunedArchive(db);
  const problems = checkChain(runs, verifyKey, archived && chainBaseOf(archived));
  if (options.anchorFile) problems.push(...checkAnchor(await readAnchor(options.anchorFile), runs, verifyKey, options.anchorFile));
  let runsChecked = 0;
  let linesChecked = 0;
  let findingsChecked = 0;
  for (const run of runs) {
    if (run.chainPosition === null || (options.date !== undefined && run.runDate !== options.date)) continue;
    runsChecked += 1;
    const checked = await checkRunContent(db, run, problems);
    linesChecked += checked.lines;
    findingsChecked += checked.findings;
  }
  const chained = runs.filter((run) => run.chainPosition !== null);
  const newest = chained.at(-1);
  const head = newest ? { position: newest.chainPosition!, date: newest.runDate, checksum: newest.checksum ?? "" } : null;
  const verdict: Verdict = problems.length > 0 ? "failed" : verifyKey === null ? "unsigned" : !options.anchorFile ? "unanchored" : "verified";
  return { ok: verdict === "verified", verdict, runsChecked, linesChecked, findingsChecked, problems, head, archived };
}

/** Recomputes one run's lines, findings, figures and checksum; returns the number of lines and findings read. */
async function checkRunContent(db: Kysely<Schema>, run: RunRecord, problems: ReportProblem[]): Promise<{ lines: number; findings: number }> {
  let lines = 0;
  const where = { date: run.runDate, runId: run.id };
  const summary = await summarizeLines(db, run.id, run.runDate, (line, recomputed) => {
    lines += 1;
    if (line.lineHash !== recomputed) problems.push({ problem: "line_altered", ...where, uid: line.uid });
  });
  if (run.checksumVersion < 3) {
    checkRunFigures(run, summary, null, problems);
    return { lines, findings: 0 };
  }
  const checked: CheckedFinding[] = [];
  const findings = await summarizeFindings(db, run.id, run.runDate, (finding, recomputed) => {
    checked.push(finding);
    if (finding.findingHash !== recomputed) problems.push({ problem: "finding_altered", ...where, findingId: finding.id });
  });
  checkRunFigures(run, summary, findings, problems);
  for (const findingId of await unauditedChanges(db, checked)) problems.push({ problem: "finding_changed_unaudited", ...where, findingId });
  return { lines, findings: checked.length };
}

import { unreachable } from "../unreachable.js";

/** Everything `reports verify` can find, each naming where it is. */
export type ReportProblem =
  /** A line's fields no longer match its hash: someone edited it. */
  | { problem: "line_altered"; date: string; runId: number; uid: string }
  /** A figure of the run row disagrees with its lines (or, for `findings_count`, with the findings it committed to). */
  | { problem: "run_altered"; date: string; runId: number; field: string; stored: number; fromLines: number }
  /** A provider finding the run committed to no longer matches its hash: someone edited it. */
  | { problem: "finding_altered"; date: string; runId: number; findingId: string }
  /** The findings the run committed to no longer give the digest its checksum covers: one was deleted, added or edited. */
  | { problem: "findings_altered"; date: string; runId: number }
  /** A finding the run committed to changed status or uid without an audited close. */
  | { problem: "finding_changed_unaudited"; date: string; runId: number; findingId: string }
  /** The run's checksum is not the one its content, status, times and predecessor give. */
  | { problem: "checksum_mismatch"; date: string; runId: number }
  /** The run does not point at the checksum of the run before it in the chain. */
  | { problem: "chain_broken"; date: string; runId: number; chainPosition: number }
  /** The run sits at `chainPosition` but the chain's links (or the anchor) put it at `expectedPosition`. */
  | { problem: "reordered"; date: string; runId: number; chainPosition: number; expectedPosition: number }
  /** A chain position below the head is missing: a run row was deleted or unchained. */
  | { problem: "chain_gap"; chainPosition: number }
  /** A completed run outside the chain (its position was removed). */
  | { problem: "unchained_run"; date: string; runId: number }
  /** A key is configured but the run carries no signature. */
  | { problem: "signature_missing"; date: string; runId: number; chainPosition: number }
  /** The run's signature does not verify with the key: its checksum, position or date was rewritten. */
  | { problem: "signature_mismatch"; date: string; runId: number; chainPosition: number }
  /** The anchor records runs past the database's head: the newest runs were deleted. */
  | { problem: "truncated"; anchoredPosition: number; anchoredDate: string; databasePosition: number }
  /** The database's run at an anchored position has another checksum than the anchor recorded. */
  | { problem: "anchor_mismatch"; chainPosition: number; anchoredDate: string }
  /** The anchor file is configured but absent while the database holds completed runs. */
  | { problem: "anchor_missing"; anchorFile: string }
  /** An anchor line that cannot be trusted: not an anchor line, a bad signature, or two lines for one position. */
  | { problem: "anchor_invalid"; line: number; why: "unreadable" | "bad_signature" | "conflicting_lines" }
  /** The recorded head of the archived (pruned) runs, or of the runs before an archive file, is not signed by the key. */
  | { problem: "archived_head_invalid"; date: string; chainPosition: number; why: "signature_missing" | "signature_mismatch" }
  /** An archive file that cannot be trusted as a whole: unreadable, cut short, or its bytes differ from its trailer's SHA-256. */
  | { problem: "archive_corrupt"; why: string };

/** One line per problem, naming the date and the user, field or position. */
export function describeProblem(problem: ReportProblem): string {
  switch (problem.problem) {
    case "line_altered":
      return `${problem.date}: line of user ${problem.uid} was altered (run ${problem.runId})`;
    case "run_altered":
      return `${problem.date}: run ${problem.runId} ${problem.field} is ${problem.stored} but its ${problem.field === "findings_count" ? "findings" : "lines"} give ${problem.fromLines}`;
    case "finding_altered":
      return `${problem.date}: provider finding ${problem.findingId} was altered (run ${problem.runId})`;
    case "findings_altered":
      return `${problem.date}: run ${problem.runId} provider findings differ from the ones it committed to (one was deleted, added or edited)`;
    case "finding_changed_unaudited":
      return `${problem.date}: provider finding ${problem.findingId} changed after run ${problem.runId} without an audited close`;
    case "checksum_mismatch":
      return `${problem.date}: run ${problem.runId} checksum does not match its content`;
    case "chain_broken":
      return `${problem.date}: run ${problem.runId} does not link to the run before it (chain position ${problem.chainPosition})`;
    case "reordered":
      return `${problem.date}: run ${problem.runId} is at chain position ${problem.chainPosition} but belongs at ${problem.expectedPosition}`;
    case "chain_gap":
      return `chain position ${problem.chainPosition}: the run is missing`;
    case "unchained_run":
      return `${problem.date}: run ${problem.runId} is completed but has no chain position`;
    case "signature_missing":
      return `${problem.date}: run ${problem.runId} (chain position ${problem.chainPosition}) is not signed`;
    case "signature_mismatch":
      return `${problem.date}: run ${problem.runId} (chain position ${problem.chainPosition}) signature does not verify: rewritten without the key`;
    case "truncated":
      return `the anchor records chain position ${problem.anchoredPosition} (${problem.anchoredDate}) but the database ends at ${problem.databasePosition}: runs were deleted`;
    case "anchor_mismatch":
      return `chain position ${problem.chainPosition}: the database's run differs from the anchored one (${problem.anchoredDate})`;
    case "anchor_missing":
      return `the anchor file ${problem.anchorFile} is missing`;
    case "anchor_invalid":
      return `anchor line ${problem.line}: ${problem.why.replace("_", " ")}`;
    case "archived_head_invalid":
      return `chain position ${problem.chainPosition} (${problem.date}), the last archived run: ${problem.why === "signature_missing" ? "not signed" : "signature does not verify"}`;
    case "archive_corrupt":
      return `archive file: ${problem.why}`;
  }
  return unreachable(problem, "problem");
}

import type { KeyObject } from "node:crypto";
import type { AnchorRead } from "./reportAnchor.js";
import type { ReportProblem } from "./reportProblems.js";
import { headSignatureValid } from "./reportSigning.js";

/**
 * The checks of `reports verify` that concern the chain as a whole, pure over the run
 * rows and the anchor: positions, links, signatures, and the database against the
 * anchor. They read no line, so they run over every run whatever the scope.
 */

export interface ChainRun {
  id: number;
  runDate: string;
  status: string;
  chainPosition: number | null;
  checksum: string | null;
  previousChecksum: string | null;
  signature: string | null;
}

type Chained = ChainRun & { chainPosition: number };

function chainedOf(runs: readonly ChainRun[]): Chained[] {
  return runs.filter((run): run is Chained => run.chainPosition !== null).sort((a, b) => a.chainPosition - b.chainPosition);
}

/**
 * Each run's place in the order its links give: from the run that links to `start`
 * (nothing, for a chain from position 1), follow the runs that link to the one before. A run the walk never reaches has no place.
 */
function linkOrder(chained: readonly Chained[], start: { checksum: string | null; position: number }): Map<number, number> {
  const next = new Map<string | null, Chained>();
  for (const run of chained) if (!next.has(run.previousChecksum)) next.set(run.previousChecksum, run);
  const places = new Map<number, number>();
  let run = next.get(start.checksum);
  while (run && !places.has(run.id)) {
    places.set(run.id, start.position + places.size + 1);
    run = run.checksum === null ? undefined : next.get(run.checksum);
  }
  return places;
}

/**
 * Where a chain that does not start at position 1 starts: the head of the runs before
 * it (archived and pruned, or before an archive file's first run). The run after it
 * must link to its checksum; `signature`, when given, is that head's own.
 */
export interface ChainBase {
  position: number;
  date: string;
  checksum: string;
  signature?: string | null;
}

/** Positions, links and signatures of a chain: the database's, or an archive's from `base`. */
export function checkChain(runs: readonly ChainRun[], verifyKey: KeyObject | null, base: ChainBase | null = null): ReportProblem[] {
  const problems: ReportProblem[] = [];
  for (const run of runs) {
    if (run.status === "completed" && run.chainPosition === null) problems.push({ problem: "unchained_run", date: run.runDate, runId: run.id });
  }
  const chained = chainedOf(runs);
  const atPosition = new Map(chained.map((run) => [run.chainPosition, run]));
  const basePosition = base?.position ?? 0;
  const places = linkOrder(chained, { checksum: base?.checksum ?? null, position: basePosition });
  if (base && verifyKey !== null && base.signature !== undefined) {
    const where = { date: base.date, chainPosition: base.position };
    if (base.signature === null) problems.push({ problem: "archived_head_invalid", ...where, why: "signature_missing" });
    else if (!headSignatureValid(verifyKey, base, base.signature)) problems.push({ problem: "archived_head_invalid", ...where, why: "signature_mismatch" });
  }
  let last = basePosition;
  for (const run of chained) {
    for (let missing = last + 1; missing < run.chainPosition; missing++) problems.push({ problem: "chain_gap", chainPosition: missing });
    last = Math.max(last, run.chainPosition);
    const where = { date: run.runDate, runId: run.id, chainPosition: run.chainPosition };
    const before = run.chainPosition === basePosition + 1 ? (base ? { checksum: base.checksum } : null) : atPosition.get(run.chainPosition - 1);
    // A link to a missing predecessor is already reported as a gap.
    if (before !== undefined && run.previousChecksum !== (before?.checksum ?? null)) {
      const place = places.get(run.id);
      if (place === undefined) problems.push({ problem: "chain_broken", ...where });
      // A run in its own place whose predecessor's place was taken: the misplaced runs are named.
      else if (place !== run.chainPosition) problems.push({ problem: "reordered", ...where, expectedPosition: place });
    }
    if (verifyKey !== null) {
      const head = { position: run.chainPosition, date: run.runDate, checksum: run.checksum ?? "" };
      if (run.signature === null) problems.push({ problem: "signature_missing", ...where });
      else if (!headSignatureValid(verifyKey, head, run.signature)) problems.push({ problem: "signature_mismatch", ...where });
    }
  }
  return problems;
}

/**
 * The database's chain against the anchor file: every anchored run must be in the
 * database at its position with its checksum. An anchored position past the database's
 * head means the newest runs were deleted; an anchored checksum found at another
 * position means runs were reordered. With a key, only anchor lines whose signature
 * verifies are trusted.
 */
export function checkAnchor(anchor: AnchorRead, runs: readonly ChainRun[], verifyKey: KeyObject | null, anchorFile: string): ReportProblem[] {
  const chained = chainedOf(runs);
  if (anchor.state === "missing") return chained.length > 0 ? [{ problem: "anchor_missing", anchorFile }] : [];
  const problems: ReportProblem[] = anchor.unreadable.map((line) => ({ problem: "anchor_invalid", line, why: "unreadable" }));
  const atPosition = new Map(chained.map((run) => [run.chainPosition, run]));
  const withChecksum = new Map(chained.filter((run) => run.checksum !== null).map((run) => [run.checksum!, run]));
  const databaseHead = chained.at(-1)?.chainPosition ?? 0;
  const trusted = new Map<number, (typeof anchor.lines)[number]>();
  for (const line of anchor.lines) {
    if (verifyKey !== null && (line.signature === null || !headSignatureValid(verifyKey, line, line.signature))) {
      problems.push({ problem: "anchor_invalid", line: line.lineNumber, why: "bad_signature" });
      continue;
    }
    const earlier = trusted.get(line.position);
    if (earlier && earlier.checksum !== line.checksum) {
      problems.push({ problem: "anchor_invalid", line: line.lineNumber, why: "conflicting_lines" });
      continue;
    }
    trusted.set(line.position, line);
  }
  let beyond: (typeof anchor.lines)[number] | undefined;
  for (const line of [...trusted.values()].sort((a, b) => a.position - b.position)) {
    if (atPosition.get(line.position)?.checksum === line.checksum) continue;
    const moved = withChecksum.get(line.checksum);
    if (moved) {
      problems.push({ problem: "reordered", date: moved.runDate, runId: moved.id, chainPosition: moved.chainPosition, expectedPosition: line.position });
    } else if (line.position > databaseHead) {
      beyond = line;
    } else if (atPosition.has(line.position)) {
      problems.push({ problem: "anchor_mismatch", chainPosition: line.position, anchoredDate: line.date });
    }
  }
  if (beyond) problems.push({ problem: "truncated", anchoredPosition: beyond.position, anchoredDate: beyond.date, databasePosition: databaseHead });
  return problems;
}

import { createHash, type KeyObject } from "node:crypto";
import { z } from "zod";
import type { AnchorRead } from "./reportAnchor.js";
import { findingHash, FindingsFold, type CommittedFinding } from "./reportFindings.js";
import { lineHash, LINE_ACTIONS, type ReportLine } from "./reportHashes.js";
import type { ReportProblem } from "./reportProblems.js";
import { checkRunFigures, type RunRecord } from "./runRecord.js";
import { LinesFold } from "./summarizeLines.js";
import { checkAnchor, checkChain } from "./verifyChain.js";

/**
 * The report archive file: gzip of JSON lines. A header, then each run (its row, every
 * field its checksum covers, and its signature) followed by its lines in user-id order
 * (every field their hash covers, and the stored hash), then a trailer with the counts,
 * the chain's ends and the SHA-256 of every byte before it. Each line and run is
 * checked as on the database, the runs as a chain from the run before the first, the
 * signatures with the verify key; the trailer makes a cut or a changed byte show even
 * where no hash covers it.
 *
 * Version 2 adds, after each run's lines, the provider findings the run committed to
 * (each with its hash), the run's `findingsCount` and `findingsDigest`, and the
 * trailer's `findings` count. A version 1 file (no findings) still reads and verifies.
 */
export const ARCHIVE_FORMAT = "reckon.report-archive";
export const ARCHIVE_VERSION = 2;
const ARCHIVE_VERSIONS = [1, 2] as const;

export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  version: (typeof ARCHIVE_VERSIONS)[number];
  before: string;
  createdAt: string;
}

export interface ArchiveTrailer {
  runs: number;
  lines: number;
  /** Provider findings (version 2 on). */
  findings?: number;
  firstPosition: number;
  lastPosition: number;
  /** What the first run links to: the checksum of the run before it, null at position 1. */
  firstPreviousChecksum: string | null;
  lastDate: string;
  lastChecksum: string;
  /** SHA-256 (hex) of the file's uncompressed bytes before the trailer line. */
  sha256: string;
}

export type ArchiveRecord =
  | { header: ArchiveHeader }
  | { run: RunRecord }
  | { line: ReportLine & { lineHash: string } }
  | { finding: CommittedFinding }
  | { trailer: ArchiveTrailer };

export function archiveLine(record: ArchiveRecord): string {
  return `${JSON.stringify(record)}\n`;
}

const Int = z.number().int();
const Line = z.strictObject({
  uid: z.string(),
  walletPoints: Int,
  ledgerSum: Int,
  ledgerCount: Int,
  delta: Int,
  action: z.enum(LINE_ACTIONS),
  adjustmentEntryId: Int.nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  lineHash: z.string(),
});
const Run = z.strictObject({
  id: Int,
  runDate: z.string(),
  status: z.string(),
  healPolicy: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  usersChecked: Int,
  violations: Int,
  refused: Int,
  adjustmentAbsTotal: Int,
  chainPosition: Int,
  checksum: z.string(),
  previousChecksum: z.string().nullable(),
  checksumVersion: Int,
  signature: z.string().nullable(),
  // Absent from version 1 files, whose runs committed to no finding.
  findingsCount: Int.default(0),
  findingsDigest: z.string().nullable().default(null),
});
const Finding = z.strictObject({
  id: z.string(),
  provider: z.string(),
  kind: z.string(),
  subject: z.string(),
  date: z.string(),
  amountMinor: Int.nullable(),
  uid: z.string().nullable(),
  status: z.string(),
  foundAt: z.string(),
  detailSha256: z.string(),
  findingHash: z.string(),
});
const Trailer = z.strictObject({
  runs: Int,
  lines: Int,
  findings: Int.optional(),
  firstPosition: Int,
  lastPosition: Int,
  firstPreviousChecksum: z.string().nullable(),
  lastDate: z.string(),
  lastChecksum: z.string(),
  sha256: z.string(),
});
const Header = z.strictObject({ format: z.literal(ARCHIVE_FORMAT), version: z.union(ARCHIVE_VERSIONS.map((version) => z.literal(version))), before: z.string(), createdAt: z.string() });
const Record = z.union([
  z.strictObject({ header: Header }),
  z.strictObject({ run: Run }),
  z.strictObject({ line: Line }),
  z.strictObject({ finding: Finding }),
  z.strictObject({ trailer: Trailer }),
]);

export interface ArchiveCheck {
  problems: ReportProblem[];
  header: ArchiveHeader | null;
  trailer: ArchiveTrailer | null;
  runs: RunRecord[];
  lines: number;
  findings: number;
}

/**
 * Checks an archive fed one text line at a time (so a file of any size streams
 * through), then `finish` checks the chain, the signatures and the trailer.
 */
export class ArchiveChecker {
  readonly #problems: ReportProblem[] = [];
  readonly #bytes = createHash("sha256");
  readonly #runs: RunRecord[] = [];
  #header: ArchiveHeader | null = null;
  #trailer: ArchiveTrailer | null = null;
  #current: { run: RunRecord; fold: LinesFold; findings: FindingsFold } | null = null;
  #lines = 0;
  #findings = 0;
  #lineNumber = 0;

  constructor(private readonly options: { verifyKey: KeyObject | null; anchor: { read: AnchorRead; file: string } | null }) {}

  line(text: string): void {
    this.#lineNumber += 1;
    if (this.#trailer) return this.#corrupt(`line ${this.#lineNumber} follows the trailer`);
    let record: z.infer<typeof Record>;
    try {
      record = Record.parse(JSON.parse(text));
    } catch {
      return this.#corrupt(`line ${this.#lineNumber} is not an archive record`);
    }
    if ("trailer" in record) {
      this.#endRun();
      this.#trailer = record.trailer;
      if (this.#bytes.copy().digest("hex") !== record.trailer.sha256) this.#corrupt("its bytes differ from the SHA-256 its trailer records");
      return;
    }
    this.#bytes.update(`${text}\n`);
    if ("header" in record) {
      if (this.#lineNumber !== 1) return this.#corrupt(`a second header at line ${this.#lineNumber}`);
      this.#header = record.header;
    } else if (this.#header === null) {
      this.#corrupt("it does not start with an archive header");
    } else if ("run" in record) {
      this.#endRun();
      this.#current = { run: record.run, fold: new LinesFold(), findings: new FindingsFold() };
      this.#runs.push(record.run);
    } else if (!this.#current) {
      this.#corrupt(`line ${this.#lineNumber} belongs to no run`);
    } else if ("finding" in record) {
      const { run, findings } = this.#current;
      const { findingHash: stored, ...finding } = record.finding;
      const recomputed = findingHash(run.runDate, finding);
      if (recomputed !== stored) this.#problems.push({ problem: "finding_altered", date: run.runDate, runId: run.id, findingId: finding.id });
      findings.add(recomputed);
      this.#findings += 1;
    } else {
      const { run, fold } = this.#current;
      const { lineHash: stored, ...line } = record.line;
      const recomputed = lineHash(run.runDate, line as ReportLine);
      if (recomputed !== stored) this.#problems.push({ problem: "line_altered", date: run.runDate, runId: run.id, uid: line.uid });
      fold.add(recomputed, line);
      this.#lines += 1;
    }
  }

  finish(): ArchiveCheck {
    const trailer = this.#trailer;
    if (!trailer) this.#corrupt("it has no trailer: the file was cut short");
    const first = this.#runs[0];
    const last = this.#runs.at(-1);
    if (trailer && first && last) {
      const ends = [
        ["runs", trailer.runs, this.#runs.length],
        ["lines", trailer.lines, this.#lines],
        ["findings", trailer.findings ?? 0, this.#findings],
        ["first position", trailer.firstPosition, first.chainPosition],
        ["last position", trailer.lastPosition, last.chainPosition],
      ] as const;
      for (const [what, recorded, found] of ends) if (recorded !== found) this.#corrupt(`its trailer records ${what} ${recorded}, the file holds ${found}`);
      if (trailer.firstPreviousChecksum !== first.previousChecksum || trailer.lastChecksum !== last.checksum) this.#corrupt("its trailer's chain ends differ from its runs");
    }
    if (trailer && !first) this.#corrupt("it holds no run");
    const base =
      first && first.chainPosition !== null && first.chainPosition > 1 && first.previousChecksum !== null
        ? { position: first.chainPosition - 1, date: "", checksum: first.previousChecksum }
        : null;
    this.#problems.push(...checkChain(this.#runs, this.options.verifyKey, base));
    if (this.options.anchor) {
      const anchored = checkAnchor(this.options.anchor.read, this.#runs, this.options.verifyKey, this.options.anchor.file);
      // The anchor goes on past the archive's last run: that is the database's part of the chain.
      this.#problems.push(...anchored.filter((problem) => problem.problem !== "truncated"));
    }
    return { problems: this.#problems, header: this.#header, trailer, runs: this.#runs, lines: this.#lines, findings: this.#findings };
  }

  #endRun(): void {
    const current = this.#current;
    if (current) checkRunFigures(current.run, current.fold.summary(), current.run.checksumVersion >= 3 ? current.findings.summary() : null, this.#problems);
    this.#current = null;
  }

  #corrupt(why: string): void {
    this.#problems.push({ problem: "archive_corrupt", why });
  }
}

import { createHash, type KeyObject } from "node:crypto";
import { z } from "zod";
import type { AnchorRead } from "./reportAnchor.js";
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
 */
export const ARCHIVE_FORMAT = "reckon.report-archive";
export const ARCHIVE_VERSION = 1;

export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  version: typeof ARCHIVE_VERSION;
  before: string;
  createdAt: string;
}

export interface ArchiveTrailer {
  runs: number;
  lines: number;
  firstPosition: number;
  lastPosition: number;
  /** What the first run links to: the checksum of the run before it, null at position 1. */
  firstPreviousChecksum: string | null;
  lastDate: string;
  lastChecksum: string;
  /** SHA-256 (hex) of the file's uncompressed bytes before the trailer line. */
  sha256: string;
}

export type ArchiveRecord = { header: ArchiveHeader } | { run: RunRecord } | { line: ReportLine & { lineHash: string } } | { trailer: ArchiveTrailer };

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
});
const Trailer = z.strictObject({
  runs: Int,
  lines: Int,
  firstPosition: Int,
  lastPosition: Int,
  firstPreviousChecksum: z.string().nullable(),
  lastDate: z.string(),
  lastChecksum: z.string(),
  sha256: z.string(),
});
const Header = z.strictObject({ format: z.literal(ARCHIVE_FORMAT), version: z.literal(ARCHIVE_VERSION), before: z.string(), createdAt: z.string() });
const Record = z.union([
  z.strictObject({ header: Header }),
  z.strictObject({ run: Run }),
  z.strictObject({ line: Line }),
  z.strictObject({ trailer: Trailer }),
]);

export interface ArchiveCheck {
  problems: ReportProblem[];
  header: ArchiveHeader | null;
  trailer: ArchiveTrailer | null;
  runs: RunRecord[];
  lines: number;
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
  #current: { run: RunRecord; fold: LinesFold } | null = null;
  #lines = 0;
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
      this.#current = { run: record.run, fold: new LinesFold() };
      this.#runs.push(record.run);
    } else if (!this.#current) {
      this.#corrupt(`line ${this.#lineNumber} belongs to no run`);
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
    return { problems: this.#problems, header: this.#header, trailer, runs: this.#runs, lines: this.#lines };
  }

  #endRun(): void {
    if (this.#current) checkRunFigures(this.#current.run, this.#current.fold.summary(), this.#problems);
    this.#current = null;
  }

  #corrupt(why: string): void {
    this.#problems.push({ problem: "archive_corrupt", why });
  }
}

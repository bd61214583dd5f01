import { createHash } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { archiveLine, ARCHIVE_FORMAT, ARCHIVE_VERSION, type ArchiveRecord } from "./archiveChecker.js";
import { archivableRuns } from "./archivableRuns.js";
import type { ReportSettings } from "./publishChainHead.js";
import { readPrunedArchive, runsDigest } from "./readArchives.js";
import type { ReportProblem } from "./reportProblems.js";
import { summarizeFindings } from "./reportFindings.js";
import { checkRunFigures, type RunRecord } from "./runRecord.js";
import { summarizeLines } from "./summarizeLines.js";
import { verifyArchive } from "./verifyArchive.js";
import { checkChain } from "./verifyChain.js";

export interface ArchiveSummary {
  id: number;
  before: string;
  firstPosition: number;
  lastPosition: number;
  lastDate: string;
  runs: number;
  lines: number;
  file: string;
  fileSha256: string;
}

export type ArchiveOutcome =
  | { outcome: "archived"; archive: ArchiveSummary }
  /** No run before the date that is not the chain head or already pruned. */
  | { outcome: "nothing_to_archive" }
  /** The file exists: an archive is never overwritten. */
  | { outcome: "file_exists"; file: string }
  /** The runs to archive do not verify: nothing is written. */
  | { outcome: "chain_has_problems"; problems: ReportProblem[] };

/**
 * `reports archive --before D --file F`: writes the chained runs dated before D (a
 * prefix of the chain, `archivableRuns`) with all their lines to F, verifying each line
 * and run as it goes, then reads F back through `verifyArchive` and only then records
 * it in `report_archives`, which is what allows `reports prune` to delete those runs.
 * The file is written beside F and renamed into place, so F is never half-written.
 */
export async function archiveReports(db: Kysely<Schema>, request: { before: string; file: string; now: Date; reports: ReportSettings }): Promise<ArchiveOutcome> {
  if (existsSync(request.file)) return { outcome: "file_exists", file: request.file };
  const runs = await archivableRuns(db, request.before);
  if (runs.length === 0) return { outcome: "nothing_to_archive" };
  const pruned = await readPrunedArchive(db);
  const base = pruned ? { position: pruned.lastPosition, date: pruned.lastDate, checksum: pruned.lastChecksum } : null;
  const problems = checkChain(runs, null, base);
  const partial = `${request.file}.partial`;
  const { lines } = await writeArchive(db, runs, { before: request.before, createdAt: request.now.toISOString(), file: partial, problems });
  if (problems.length > 0) {
    await rm(partial, { force: true });
    return { outcome: "chain_has_problems", problems };
  }
  const readBack = await verifyArchive(partial, { verifyKey: request.reports.keys.verifyKey, anchorFile: request.reports.anchorFile });
  if (readBack.problems.length > 0) {
    await rm(partial, { force: true });
    return { outcome: "chain_has_problems", problems: readBack.problems };
  }
  // On disk before it is recorded: a prune may delete the runs as soon as it is.
  const handle = await open(partial, "r");
  await handle.sync();
  await handle.close();
  await rename(partial, request.file);
  const first = runs[0]!;
  const last = runs.at(-1)!;
  const row = await db
    .insertInto("report_archives")
    .values({
      before_date: request.before,
      first_position: first.chainPosition!,
      last_position: last.chainPosition!,
      last_date: last.runDate,
      last_checksum: last.checksum!,
      last_signature: last.signature,
      runs_digest: runsDigest(runs),
      runs: runs.length,
      lines,
      file_path: request.file,
      file_sha256: readBack.fileSha256,
      created_at: request.now.toISOString(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return {
    outcome: "archived",
    archive: {
      id: Number(row.id),
      before: request.before,
      firstPosition: first.chainPosition!,
      lastPosition: last.chainPosition!,
      lastDate: last.runDate,
      runs: runs.length,
      lines,
      file: request.file,
      fileSha256: readBack.fileSha256,
    },
  };
}

const WRITE_BATCH_CHARS = 256 * 1024;

/** Streams the runs, their lines (read a page at a time) and their findings into a gzip file; returns the counts. */
async function writeArchive(
  db: Kysely<Schema>,
  runs: readonly RunRecord[],
  target: { before: string; createdAt: string; file: string; problems: ReportProblem[] },
): Promise<{ lines: number; findings: number }> {
  const gzip = createGzip();
  const out = createWriteStream(target.file);
  gzip.pipe(out);
  const bytes = createHash("sha256");
  // Each write to a gzip stream is a round trip to the thread pool: records go in batches.
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    if (pending.length > 0) gzip.write(pending.join(""));
    pending = [];
    pendingLength = 0;
  };
  const write = (record: ArchiveRecord) => {
    const text = archiveLine(record);
    bytes.update(text);
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= WRITE_BATCH_CHARS) flush();
  };
  write({ header: { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, before: target.before, createdAt: target.createdAt } });
  let lines = 0;
  let findings = 0;
  for (const run of runs) {
    write({ run });
    const summary = await summarizeLines(db, run.id, run.runDate, (line, recomputed) => {
      if (line.lineHash !== recomputed) target.problems.push({ problem: "line_altered", date: run.runDate, runId: run.id, uid: line.uid });
      write({ line });
      lines += 1;
    });
    const committed =
      run.checksumVersion < 3
        ? null
        : await summarizeFindings(db, run.id, run.runDate, (finding, recomputed) => {
            if (finding.findingHash !== recomputed) target.problems.push({ problem: "finding_altered", date: run.runDate, runId: run.id, findingId: finding.id });
            const { now: _now, ...committedFinding } = finding;
            write({ finding: committedFinding });
            findings += 1;
          });
    checkRunFigures(run, summary, committed, target.problems);
  }
  const first = runs[0]!;
  const last = runs.at(-1)!;
  const trailer = {
    runs: runs.length,
    lines,
    findings,
    firstPosition: first.chainPosition!,
    lastPosition: last.chainPosition!,
    firstPreviousChecksum: first.previousChecksum,
    lastDate: last.runDate,
    lastChecksum: last.checksum!,
    sha256: bytes.digest("hex"),
  };
  flush();
  gzip.end(archiveLine({ trailer }));
  await once(out, "close");
  return { lines, findings };
}

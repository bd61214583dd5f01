import { statSync } from "node:fs";
import type { Db } from "../storage/openDatabase.js";
import type { ImportedUser, ReadyUser } from "./applyImportBatch.js";
import type { CommitSettings, CommittedBatch } from "./commitImportBatch.js";
import { UserGrouper, type GroupEvent } from "./groupUsers.js";
import { importWriterFor } from "./importWriter.js";
import type { ImportFormat, LineProblem, ParsedLine } from "./LegacyRecord.js";
import { parseFirestoreLine } from "./parseFirestoreLine.js";
import { parseReckonLine } from "./parseReckonLine.js";
import { readLines } from "./readLines.js";

/** A document of a legacy export is small; a longer line is damage, not data. */
export const MAX_LINE_BYTES = 1 << 20;
/**
 * A batch commits once it holds this many entries (or `BATCH_USERS` users). Halved from
 * 5,000 / 1,000: the batches the main thread holds while the writer thread commits are
 * what grows its young generation, and 1M entries peaked at 294–317 MB RSS against
 * 246–283 MB now, no slower (docs/decisions/import-speed.md, "Third round").
 */
const BATCH_ENTRIES = 2_500;
export const BATCH_USERS = 500;
/**
 * Batches handed to the writer and not yet answered: one being committed and the next
 * waiting, while a third is read. More would only hold memory.
 */
const BATCHES_IN_FLIGHT = 2;
/**
 * From this size an export is committed by a writer thread where the database allows one
 * (`importWriterFor`). Starting the thread and its connection costs tens of milliseconds
 * (a second under tsx), more than a small file takes to import on one thread.
 */
export const WRITER_THREAD_MIN_BYTES = 4 << 20;

export interface ImportOptions extends CommitSettings {
  file: string;
  format: ImportFormat;
  onProgress?: (progress: ImportProgress) => void;
  /** Whether batches may be committed by a writer thread; by default, from `WRITER_THREAD_MIN_BYTES`. */
  writerThread?: boolean;
}

export interface ImportProgress {
  bytesRead: number;
  bytesTotal: number;
  users: number;
  entriesPosted: number;
}

export interface ImportProblem extends LineProblem {
  /** The user skipped for it; null when the line could not be tied to anyone. */
  uid: string | null;
}

export interface ImportSummary {
  outcome: "imported" | "dry_run";
  users: number;
  walletsCreated: number;
  entriesPosted: number;
  entriesAlreadyImported: number;
  usersSkipped: number;
  /** Users whose exported balance is not the sum of their exported entries, imported as they are. */
  drift: { uid: string; line: number; exportedPoints: number; entriesPoints: number; drift: number }[];
  /** Users Reckon already held whose balance after the import differs from the export; left as they are. */
  mismatches: { uid: string; line: number; exportedPoints: number; reckonPoints: number }[];
  problems: ImportProblem[];
}

/** How a line of each export format is read. */
export const LINE_PARSERS: Record<ImportFormat, (line: string, now: Date) => ParsedLine> = {
  reckon: parseReckonLine,
  firestore: parseFirestoreLine,
};

/**
 * `reckon import wallets`: streams a legacy export into the ledger a batch of users at a
 * time (docs/import-format.md). Every imported entry keeps its legacy id and time and is
 * idempotent under `import:<uid>/<id>`, so running the same file again, or a later export
 * that overlaps it, adds only what is new. A user with any bad line is skipped whole and
 * reported with the line numbers; the rest goes on. Batches are committed by an
 * `ImportWriter` while the next ones are read; problems are listed in file order.
 */
export async function importWallets(db: Db, options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = {
    outcome: options.dryRun ? "dry_run" : "imported",
    users: 0,
    walletsCreated: 0,
    entriesPosted: 0,
    entriesAlreadyImported: 0,
    usersSkipped: 0,
    drift: [],
    mismatches: [],
    problems: [],
  };
  const bytesTotal = statSync(options.file).size;
  const reader = readLines(options.file, MAX_LINE_BYTES);
  const grouper = new UserGrouper();
  const parse = LINE_PARSERS[options.format];
  let batch: ReadyUser[] = [];
  let batchEntries = 0;
  const settings = { actor: options.actor, now: options.now, dryRun: options.dryRun };
  const writer = importWriterFor(db, settings, options.writerThread ?? bytesTotal >= WRITER_THREAD_MIN_BYTES);
  const inFlight: Promise<CommittedBatch>[] = [];

  /** Takes in the oldest batch's outcome, in the order batches were read. */
  const settle = async () => {
    const committed = await inFlight.shift()!;
    for (const user of committed.imported) record(summary, user);
    summary.usersSkipped += new Set(committed.refused.map((refused) => refused.uid)).size;
    for (const { uid, problem } of committed.refused) summary.problems.push({ ...problem, uid });
    options.onProgress?.({ bytesRead: reader.bytesRead(), bytesTotal, users: summary.users, entriesPosted: summary.entriesPosted });
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const committed = writer.commit(batch);
    // Awaited in turn by `settle`; until then a failure must not count as unhandled.
    committed.catch(() => undefined);
    inFlight.push(committed);
    batch = [];
    batchEntries = 0;
    if (inFlight.length >= BATCHES_IN_FLIGHT) await settle();
  };
  const take = async (events: GroupEvent[]) => {
    for (const event of events) {
      if (event.kind === "unattributed") {
        summary.problems.push({ ...event.problem, uid: null });
        continue;
      }
      const { group } = event;
      if (group.problems.length > 0 || group.points === null) {
        summary.usersSkipped += 1;
        for (const problem of group.problems) summary.problems.push({ ...problem, uid: group.uid });
        continue;
      }
      batch.push(group as ReadyUser);
      batchEntries += group.entries.length;
      if (batchEntries >= BATCH_ENTRIES || batch.length >= BATCH_USERS) await flush();
    }
  };

  try {
    for await (const line of reader.lines) {
      const parsed: ParsedLine =
        "unreadable" in line
          ? { ok: false, uid: null, code: line.unreadable, problem: line.unreadable === "not_utf8" ? "not valid UTF-8" : `longer than ${MAX_LINE_BYTES} bytes` }
          : parse(line.text, options.now);
      await take(grouper.push(line.number, parsed));
    }
    await take(grouper.end());
    await flush();
    while (inFlight.length > 0) await settle();
  } finally {
    await writer.close();
  }
  // A refused user's problem arrives after later users' were read: list them in file order.
  summary.problems.sort((a, b) => a.line - b.line);
  return summary;
}

function record(summary: ImportSummary, user: ImportedUser): void {
  summary.users += 1;
  summary.entriesPosted += user.posted;
  summary.entriesAlreadyImported += user.duplicates;
  if (user.created) summary.walletsCreated += user.walletPoints !== 0 || user.posted > 0 ? 1 : 0;
  const entriesPoints = Number(user.entriesSum);
  if (BigInt(user.exportedPoints) !== user.entriesSum) {
    summary.drift.push({ uid: user.uid, line: user.line, exportedPoints: user.exportedPoints, entriesPoints, drift: user.exportedPoints - entriesPoints });
  }
  if (!user.created && user.walletPoints !== user.exportedPoints) {
    summary.mismatches.push({ uid: user.uid, line: user.line, exportedPoints: user.exportedPoints, reckonPoints: user.walletPoints });
  }
}

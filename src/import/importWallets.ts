import { statSync } from "node:fs";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { applyImportBatch, type BatchResult, type ImportContext, type ImportedUser, type ReadyUser } from "./applyImportBatch.js";
import { UserGrouper, type GroupEvent } from "./groupUsers.js";
import type { ImportFormat, LineProblem, ParsedLine } from "./LegacyRecord.js";
import { parseFirestoreLine } from "./parseFirestoreLine.js";
import { parseReckonLine } from "./parseReckonLine.js";
import { readLines } from "./readLines.js";

/** A document of a legacy export is small; a longer line is damage, not data. */
export const MAX_LINE_BYTES = 1 << 20;
/** A batch commits once it holds this many entries (or `BATCH_USERS` users). */
const BATCH_ENTRIES = 5_000;
const BATCH_USERS = 1_000;

export interface ImportOptions extends ImportContext {
  file: string;
  format: ImportFormat;
  /** Read, check and decide everything, then roll every batch back. */
  dryRun: boolean;
  onProgress?: (progress: ImportProgress) => void;
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

/** Rolls a dry run's batch back while keeping what it decided. */
class DryRunRollback extends Error {
  constructor(readonly result: BatchResult) {
    super("dry run: rolled back");
  }
}

/**
 * `reckon import wallets`: streams a legacy export into the ledger a batch of users at a
 * time (docs/import-format.md). Every imported entry keeps its legacy id and time and is
 * idempotent under `import:<uid>/<id>`, so running the same file again, or a later export
 * that overlaps it, adds only what is new. A user with any bad line is skipped whole and
 * reported with the line numbers; the rest goes on.
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

  const flush = async () => {
    if (batch.length === 0) return;
    await commitBatch(db, batch, options, summary);
    batch = [];
    batchEntries = 0;
    options.onProgress?.({ bytesRead: reader.bytesRead(), bytesTotal, users: summary.users, entriesPosted: summary.entriesPosted });
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

  for await (const line of reader.lines) {
    const parsed: ParsedLine =
      "unreadable" in line
        ? { ok: false, uid: null, code: line.unreadable, problem: line.unreadable === "not_utf8" ? "not valid UTF-8" : `longer than ${MAX_LINE_BYTES} bytes` }
        : parse(line.text, options.now);
    await take(grouper.push(line.number, parsed));
  }
  await take(grouper.end());
  await flush();
  return summary;
}

/** Commits one batch, running it again without any user the ledger refused. */
async function commitBatch(db: Db, users: ReadyUser[], options: ImportOptions, summary: ImportSummary): Promise<void> {
  let remaining = users;
  while (remaining.length > 0) {
    const result = await runBatch(db, remaining, options);
    if (result.outcome === "applied") {
      for (const user of result.users) record(summary, user);
      return;
    }
    const refused = new Set(result.problems.map((problem) => problem.uid));
    summary.usersSkipped += refused.size;
    for (const { uid, problem } of result.problems) summary.problems.push({ ...problem, uid });
    remaining = remaining.filter((user) => !refused.has(user.uid));
  }
}

async function runBatch(db: Db, users: ReadyUser[], options: ImportOptions): Promise<BatchResult> {
  try {
    return await withTransaction(db, async (trx) => {
      const result = await applyImportBatch(trx, users, options);
      // A refused user's entries are in this transaction too: undo the batch, keep the answer.
      if (options.dryRun || result.outcome === "refused") throw new DryRunRollback(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.result;
    throw error;
  }
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

import { sql } from "kysely";
import { isRetryable, type Trx } from "../storage/withTransaction.js";
import { healUser, refusedLine, type HealRun } from "./healUser.js";
import { readHealCandidates, type HealCandidate } from "./readHealCandidates.js";
import type { ReportLine } from "./reportHashes.js";
import { writeLines, type WrittenLines } from "./writeLines.js";

/** A chunk's heal lines, one per drifted user in the order given, as written (`writeLines`). */
export interface HealedLines extends WrittenLines {
  lines: ReportLine[];
}

/** Longest error text a `heal_failed` line keeps. */
const DETAIL_CHARS_MAX = 300;

/**
 * Heals the drifted users of a chunk in `trx`, in the given (user-id) order, and writes
 * their report lines in the same `trx` with one statement, so a heal is never without
 * its line. Returns the lines and their hashes. Their wallets are locked and read together first
 * (`readHealCandidates`: three statements for the chunk, not per user).
 *
 * Each heal writes inside its own savepoint, so users never share a fate: a heal that
 * the ledger refuses, or that fails in the database, is rolled back to its savepoint and
 * becomes that user's `refused` line, while the others commit. Only transient errors
 * (a deadlock, a serialization failure, a busy database) leave here: `withTransaction`
 * then runs the whole heal transaction again.
 */
export async function healUsers(trx: Trx, run: HealRun, uids: readonly string[], now: () => Date): Promise<HealedLines> {
  const candidates = await readHealCandidates(trx, run.date, uids);
  const lines: ReportLine[] = [];
  for (const candidate of candidates) lines.push(await healIsolated(trx, run, candidate, now()));
  const written = await writeLines(trx, run.runId, run.date, lines);
  return { lines, ...written };
}

/** One user's heal; its writes, if any, inside the savepoint `heal_user`. */
async function healIsolated(trx: Trx, run: HealRun, candidate: HealCandidate, now: Date): Promise<ReportLine> {
  let opened = false;
  const beforeWrite = async () => {
    await sql`SAVEPOINT heal_user`.execute(trx);
    opened = true;
  };
  let line: ReportLine;
  try {
    line = await healUser(trx, run, candidate, now, beforeWrite);
  } catch (error) {
    if (isTransient(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const seen = candidate.reading?.inRange ? candidate.reading.observation : undefined;
    line = refusedLine(candidate.uid, seen, "heal_failed", message.slice(0, DETAIL_CHARS_MAX));
  }
  if (opened) {
    if (line.action === "refused") await sql`ROLLBACK TO SAVEPOINT heal_user`.execute(trx);
    await sql`RELEASE SAVEPOINT heal_user`.execute(trx);
  }
  return line;
}

/**
 * `withTransaction` also retries a unique violation, since a concurrent writer may have
 * won a race; here every write happens under the user's wallet lock, so one is not a
 * race but this user's failure, and retrying it would only fail the chunk five times.
 */
function isTransient(error: unknown): boolean {
  return isRetryable(error) && (error as { code?: unknown }).code !== "23505";
}

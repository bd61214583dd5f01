import { sql } from "kysely";
import type { Trx } from "../storage/withTransaction.js";
import { healAdjustments, type Adjustment } from "./healAdjustments.js";
import { healUser, isTransientHealError, refusedLine, type HealRun } from "./healUser.js";
import { planHeal } from "./planHeal.js";
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
 * The adjust_ledger heals go together first (`healAdjustments`, in one savepoint that
 * falls back to the path below if anything in it fails). Otherwise each heal writes
 * inside its own savepoint, so users never share a fate: a heal that
 * the ledger refuses, or that fails in the database, is rolled back to its savepoint and
 * becomes that user's `refused` line, while the others commit. Only transient errors
 * (a deadlock, a serialization failure, a busy database) leave here: `withTransaction`
 * then runs the whole heal transaction again.
 */
export async function healUsers(trx: Trx, run: HealRun, uids: readonly string[], now: () => Date): Promise<HealedLines> {
  const candidates = await readHealCandidates(trx, run.date, uids);
  const together = await healTogether(trx, run, candidates, now);
  const lines: ReportLine[] = [];
  for (const [index, candidate] of candidates.entries()) lines.push(together[index] ?? (await healIsolated(trx, run, candidate, now())));
  const written = await writeLines(trx, run.runId, run.date, lines);
  return { lines, ...written };
}

/**
 * The adjust_ledger heals among `candidates` written together (`healAdjustments`), each
 * at its candidate's index; the others, and all of them if the batch failed, are left
 * for `healIsolated`. A single heal goes that way too: a batch of one saves nothing.
 */
async function healTogether(trx: Trx, run: HealRun, candidates: readonly HealCandidate[], now: () => Date): Promise<(ReportLine | undefined)[]> {
  const lines: (ReportLine | undefined)[] = candidates.map(() => undefined);
  const batch: { index: number; adjustment: Adjustment }[] = [];
  for (const [index, candidate] of candidates.entries()) {
    if (candidate.earlier || !candidate.reading?.inRange) continue;
    const seen = candidate.reading.observation;
    const plan = planHeal(seen, run.policy, run.date);
    if (plan.action === "adjust") batch.push({ index, adjustment: { seen, plan } });
  }
  if (batch.length < 2) return lines;
  const healed = await healAdjustments(trx, run, batch.map((item) => item.adjustment), now());
  if (healed) for (const [position, item] of batch.entries()) lines[item.index] = healed[position];
  return lines;
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
    if (isTransientHealError(error)) throw error;
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

import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { ClaimedChunk } from "./claimChunk.js";
import type { HealRun } from "./healUser.js";
import { healUsers, type HealedLines } from "./healUsers.js";
import { observeRange } from "./observeRange.js";
import { lineTotals, type ReportLine } from "./reportHashes.js";
import type { ChunkLines } from "./sweepFold.js";
import { yieldToRequests } from "./yieldToRequests.js";

export interface ChunkResult {
  usersChecked: number;
  violations: number;
  refused: number;
  adjustmentAbsTotal: number;
  /** False when another process finished the chunk first (ours was a stale claim). */
  kept: boolean;
  /** The lines of the drifted users, as their heal transaction committed them. */
  healed: ReportLine[];
  /** Every line this process wrote for the chunk, with their hashes, where it wrote the `ok` lines itself (`SweepFold`). */
  lines: ChunkLines | null;
}

/**
 * Sweeps one claimed chunk: `observeRange` reads its wallets next to their entry sums
 * and writes the lines of the users in balance (in one statement where the engine
 * can, in short slices where it runs in this process), one short transaction heals the drifted users and writes their
 * lines, then the chunk is marked done. No transaction spans the chunk, so live
 * purchases, spends and webhooks wait at most for one slice or one heal batch.
 */
export async function sweepChunk(db: Db, run: HealRun, chunk: ClaimedChunk, holder: string, now: () => Date): Promise<ChunkResult> {
  const observed = await observeRange(db, { runId: run.runId, date: run.date, chunk, holder, firstClaim: chunk.firstClaim });
  const totals = { usersChecked: observed.usersChecked, violations: 0, refused: 0, adjustmentAbsTotal: 0 };
  if (!observed.kept) return { ...totals, kept: false, healed: [], lines: null };
  let healed: HealedLines = { lines: [], hashes: [], complete: true };
  await yieldToRequests();
  // One transaction heals the chunk's drifted users, each under its own wallet lock, in
  // user-id order, and writes their lines.
  if (observed.drifted.length > 0) {
    healed = await withTransaction(db, (trx) => healUsers(trx, run, observed.drifted, now));
    for (const line of healed.lines) {
      const counted = lineTotals(line);
      totals.violations += counted.violation;
      totals.refused += counted.refused;
      totals.adjustmentAbsTotal += counted.adjusted;
    }
    await yieldToRequests();
  }
  const done = await db.kysely
    .updateTable("reconciliation_chunks")
    .set({ status: "done", users_checked: totals.usersChecked, violations: totals.violations, refused: totals.refused, adjustment_abs_total: totals.adjustmentAbsTotal })
    .where("run_id", "=", run.runId)
    .where("chunk_no", "=", chunk.chunk_no)
    .where("status", "=", "claimed")
    .where("claimed_by", "=", holder)
    .executeTakeFirst();
  await yieldToRequests();
  const lines = observed.okLines && {
    ...observed.okLines,
    // healUsers answers one line per user in the order given; checked, since the fold relies on it.
    complete: observed.okLines.complete && healed.complete && healed.lines.every((line, index) => line.uid === observed.drifted[index]),
    healed,
  };
  return { ...totals, kept: Number(done.numUpdatedRows) > 0, healed: healed.lines, lines };
}

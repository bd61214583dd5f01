import type { Kysely } from "kysely";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { ClaimedChunk } from "./claimChunk.js";
import type { HealRun } from "./healUser.js";
import { healUsers, type HealedLines } from "./healUsers.js";
import { observeRange } from "./observeRange.js";
import { lineTotals, type ReportLine } from "./reportHashes.js";
import type { ChunkLines } from "./sweepFold.js";
import { yieldToRequests } from "./yieldToRequests.js";

interface ChunkTotals {
  usersChecked: number;
  violations: number;
  refused: number;
  adjustmentAbsTotal: number;
}

export interface ChunkResult extends ChunkTotals {
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
 * can, in short slices where it runs in this process), then one short transaction heals the drifted users, writes their
 * lines and marks the chunk done (a chunk without drift is marked done alone). No transaction spans the chunk, so live
 * purchases, spends and webhooks wait at most for one slice or one heal batch.
 */
export async function sweepChunk(db: Db, run: HealRun, chunk: ClaimedChunk, holder: string, now: () => Date): Promise<ChunkResult> {
  const observed = await observeRange(db, { runId: run.runId, date: run.date, chunk, holder, firstClaim: chunk.firstClaim });
  const totals: ChunkTotals = { usersChecked: observed.usersChecked, violations: 0, refused: 0, adjustmentAbsTotal: 0 };
  if (!observed.kept) return { ...totals, kept: false, healed: [], lines: null };
  let healed: HealedLines = { lines: [], hashes: [], complete: true };
  await yieldToRequests();
  let kept: boolean;
  if (observed.drifted.length > 0) {
    // One transaction heals the chunk's drifted users, each under its own wallet lock, in
    // user-id order, writes their lines and marks the chunk done: one commit, not two.
    const outcome = await withTransaction(db, async (trx) => {
      const lines = await healUsers(trx, run, observed.drifted, now);
      const counted = { ...totals };
      for (const line of lines.lines) {
        const figures = lineTotals(line);
        counted.violations += figures.violation;
        counted.refused += figures.refused;
        counted.adjustmentAbsTotal += figures.adjusted;
      }
      return { lines, counted, done: await markDone(trx, run.runId, chunk.chunk_no, holder, counted) };
    });
    healed = outcome.lines;
    Object.assign(totals, outcome.counted);
    kept = outcome.done;
  } else {
    kept = await markDone(db.kysely, run.runId, chunk.chunk_no, holder, totals);
  }
  await yieldToRequests();
  const lines = observed.okLines && {
    ...observed.okLines,
    // healUsers answers one line per user in the order given; checked, since the fold relies on it.
    complete: observed.okLines.complete && healed.complete && healed.lines.every((line, index) => line.uid === observed.drifted[index]),
    healed,
  };
  return { ...totals, kept, healed: healed.lines, lines };
}

/** Marks the chunk done with its figures if `holder` still holds it; false when another process took it over. */
async function markDone(db: Kysely<Schema>, runId: number, chunkNo: number, holder: string, totals: ChunkTotals): Promise<boolean> {
  const done = await db
    .updateTable("reconciliation_chunks")
    .set({ status: "done", users_checked: totals.usersChecked, violations: totals.violations, refused: totals.refused, adjustment_abs_total: totals.adjustmentAbsTotal })
    .where("run_id", "=", runId)
    .where("chunk_no", "=", chunkNo)
    .where("status", "=", "claimed")
    .where("claimed_by", "=", holder)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) > 0;
}

import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { Chunk } from "./claimChunk.js";
import { healUser, type HealRun } from "./healUser.js";
import { driftOf } from "./planHeal.js";
import { readObservations } from "./readObservations.js";
import { lineTotals, type ReportLine } from "./reportHashes.js";
import { appendLines } from "./writeLines.js";

export interface ChunkResult {
  usersChecked: number;
  violations: number;
  adjustmentAbsTotal: number;
  /** False when another process finished the chunk first (ours was a stale claim). */
  kept: boolean;
}

class ChunkLost extends Error {}

/**
 * Lets requests that are waiting run before the sweep takes the database again. On
 * SQLite one connection serves the whole process and its lock is not first-come
 * first-served: without this pause the sweep, always ready with its next statement,
 * would take the connection back ahead of live spends and webhooks for the whole run.
 */
export function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Sweeps one claimed chunk: one set-based read of its wallets and entry sums, one
 * short transaction for the heals of its drifted users, then one transaction that writes
 * the remaining lines and marks the chunk done. No transaction spans the chunk, so
 * live purchases and spends wait at most for one heal or one batch of lines.
 */
export async function sweepChunk(db: Db, run: HealRun, chunk: Chunk, holder: string, now: () => Date): Promise<ChunkResult> {
  const observations = await readObservations(db.kysely, { after: chunk.uid_after, last: chunk.uid_last });
  await yieldToRequests();
  const drifted = observations.filter((seen) => driftOf(seen) !== 0).map((seen) => seen.uid);
  // One transaction heals the chunk's drifted users (each under its own wallet lock, in
  // user-id order), and writes their lines; the lines are counted here, not written twice.
  const healed = drifted.length === 0 ? [] : await withTransaction(db, async (trx) => {
    const out: ReportLine[] = [];
    for (const uid of drifted) out.push(await healUser(trx, run, uid, now()));
    return out;
  });
  // One pass, no copies: a chunk is thousands of users and this runs for every one.
  if (healed.length > 0) await yieldToRequests();
  const healedByUid = new Map(healed.map((line) => [line.uid, line]));
  const okLines: ReportLine[] = [];
  const totals = { usersChecked: observations.length, violations: 0, adjustmentAbsTotal: 0 };
  for (const seen of observations) {
    const line = healedByUid.get(seen.uid);
    if (line === undefined) {
      okLines.push({ uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: 0, action: "ok", adjustmentEntryId: null });
      continue;
    }
    const counted = lineTotals(line);
    totals.violations += counted.violation;
    totals.adjustmentAbsTotal += counted.adjusted;
  }
  try {
    await withTransaction(db, async (trx) => {
      await appendLines(db, trx, run.runId, run.date, okLines);
      const done = await trx
        .updateTable("reconciliation_chunks")
        .set({ status: "done", users_checked: totals.usersChecked, violations: totals.violations, adjustment_abs_total: totals.adjustmentAbsTotal })
        .where("run_id", "=", run.runId)
        .where("chunk_no", "=", chunk.chunk_no)
        .where("status", "=", "claimed")
        .where("claimed_by", "=", holder)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0) throw new ChunkLost();
    });
  } catch (error) {
    if (error instanceof ChunkLost) return { ...totals, kept: false };
    throw error;
  }
  await yieldToRequests();
  return { ...totals, kept: true };
}

import { withTransaction } from "../storage/withTransaction.js";
import { applyBatch } from "./applyBatch.js";
import { logBackfillActions } from "./logBackfillActions.js";
import { markStoredStateChanged } from "../ops/storedStateChanged.js";
import { rangeOf, type BackfillRequest } from "./BackfillRequest.js";
import type { Ending } from "./guardRun.js";
import { readBackfillRun, saveProgress } from "./backfillRuns.js";
import type { BackfillDeps } from "./startBackfill.js";
import type { RunHandle } from "./runLease.js";
import { countCandidates, refreshScanStatistics, selectBatch } from "./selectBatch.js";

/**
 * Applies the run batch by batch from `start`. Each batch commits together with the
 * record's counts and cursor, and only while this execution still holds the record,
 * so a run killed at any point resumes exactly where its last commit left it, and a
 * run taken over stops at its next batch. Run it through `guardRun`, which ends the
 * record whatever happens here.
 */
export async function runBatches(
  deps: BackfillDeps,
  run: RunHandle,
  request: BackfillRequest,
  start: { cursor: number | null; scanned: number },
): Promise<Ending> {
  const { from, to } = rangeOf(request);
  let cursor = start.cursor ?? 0;
  let scanned = start.scanned;
  let exhausted = false;
  await refreshScanStatistics(deps.db.kysely);
  // Counted only for whoever shows progress.
  const eventsTotal = deps.onProgress
    ? scanned + Math.min(request.maxEvents - scanned, await countCandidates(deps.db.kysely, request.type, { from, to, afterId: cursor }))
    : 0;
  while (scanned < request.maxEvents) {
    const current = await readBackfillRun(deps.db.kysely, run.id);
    if (current?.status !== "running") return { end: "lost" };
    const limit = Math.min(deps.batchSize, request.maxEvents - scanned);
    const batch = await withTransaction(deps.db, async (trx) => {
      const rows = await selectBatch(trx, request.type, { from, to, afterId: cursor, limit });
      if (rows.length === 0) return null;
      const now = deps.now();
      const progress = await applyBatch(trx, request.type, rows, { now, reversalPolicy: deps.reversalPolicy });
      await saveProgress(trx, run, progress, now);
      return progress;
    });
    if (batch === null) {
      exhausted = true;
      break;
    }
    if (deps.logger) await logBackfillActions(deps.db.kysely, deps.logger, { migrationId: run.id, type: request.type, requestId: deps.requestId ?? null }, batch.actedOn);
    markStoredStateChanged();
    cursor = batch.cursor ?? cursor;
    scanned += batch.scanned;
    deps.onProgress?.((await readBackfillRun(deps.db.kysely, run.id))!, eventsTotal);
  }
  const saved = (await readBackfillRun(deps.db.kysely, run.id))!;
  const more = !exhausted && (await selectBatch(deps.db.kysely, request.type, { from, to, afterId: cursor, limit: 1 })).length > 0;
  return { end: "finished", status: saved.errors > 0 || more ? "partial" : "completed", failure: null };
}

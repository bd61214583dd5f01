import { isRetryable } from "../storage/withTransaction.js";
import type { BackfillRequest } from "./BackfillRequest.js";
import { rangeOf } from "./BackfillRequest.js";
import { applyBatch } from "./applyBatch.js";
import { entriesWrittenSince, lastEntryId, planHash } from "./capturePlan.js";
import { addProgress, NO_PROGRESS, type PlannedEntry, type Progress } from "./backfillRuns.js";
import type { BackfillDeps } from "./startBackfill.js";
import { refreshScanStatistics, selectBatch } from "./selectBatch.js";

export interface Plan {
  progress: Progress;
  entries: PlannedEntry[];
  hash: string;
}

/** Carries the plan out of the transaction it must roll back. */
class DryRunRollback extends Error {
  constructor(readonly plan: Plan) {
    super("dry run rolled back");
  }
}

/** Times a plan is computed afresh after a concurrent writer forced its rollback. */
const PLAN_ATTEMPTS = 5;

/**
 * Runs the backfill through the live path inside one transaction and rolls it back:
 * the plan is exactly what a real run would post now, and nothing stays written.
 * On PostgreSQL the transaction reads one snapshot (REPEATABLE READ), so a live
 * delivery that commits a change to a row the plan then writes (a wallet, an
 * idempotency key) makes it fail with a serialization failure; the plan is then
 * computed again on a new snapshot, at most PLAN_ATTEMPTS times.
 */
export async function computePlan(deps: BackfillDeps, request: BackfillRequest): Promise<Plan> {
  await refreshScanStatistics(deps.db.kysely);
  for (let attempt = 1; ; attempt++) {
    try {
      return await planOnce(deps, request);
    } catch (error) {
      if (attempt >= PLAN_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, Math.random() * 20 * attempt));
    }
  }
}

async function planOnce(deps: BackfillDeps, request: BackfillRequest): Promise<Plan> {
  const { from, to } = rangeOf(request);
  try {
    // One snapshot for the whole plan: live traffic committing meanwhile stays invisible.
    await deps.db.kysely.transaction().setIsolationLevel("repeatable read").execute(async (trx) => {
      const before = await lastEntryId(trx);
      let progress = NO_PROGRESS;
      while (progress.scanned < request.maxEvents) {
        const limit = Math.min(deps.batchSize, request.maxEvents - progress.scanned);
        const rows = await selectBatch(trx, request.type, { from, to, afterId: progress.cursor ?? 0, limit });
        if (rows.length === 0) break;
        const batch = await applyBatch(trx, request.type, rows, { now: deps.now(), reversalPolicy: deps.reversalPolicy });
        progress = addProgress(progress, batch);
      }
      const entries = await entriesWrittenSince(trx, before);
      throw new DryRunRollback({ progress, entries, hash: planHash(entries) });
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.plan;
    throw error;
  }
  throw new Error("a dry run must end in its rollback");
}

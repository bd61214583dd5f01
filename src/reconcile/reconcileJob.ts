import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import { checkRunDate, todayUtc, type RunDateCheck } from "./checkRunDate.js";
import type { ChainLogger } from "./publishChainHead.js";
import { runReconciliation, type ReconcileOutcome } from "./runReconciliation.js";

export type ReconcileJobOutcome =
  | ReconcileOutcome
  /** 503: RECONCILIATION_ENABLED=0. */
  | { outcome: "feature_disabled"; setting: "RECONCILIATION_ENABLED" }
  /** 400: the date is malformed, not a calendar day, or in the future. */
  | { outcome: "invalid_date"; check: Extract<RunDateCheck, { ok: false }> };

/** The job as the route, the CLI and the scheduler start it: checks first, then the run. */
export async function reconcileJob(
  db: Db,
  config: Config,
  input: {
    date?: string;
    mode?: "start" | "join";
    now: () => Date;
    onProgress?: Parameters<typeof runReconciliation>[1]["onProgress"];
    logger?: ChainLogger;
    requestId?: string;
  },
): Promise<ReconcileJobOutcome> {
  if (!config.features.reconciliationEnabled) return { outcome: "feature_disabled", setting: "RECONCILIATION_ENABLED" };
  const check = checkRunDate(input.date ?? todayUtc(input.now()), input.now());
  if (!check.ok) return { outcome: "invalid_date", check };
  return runReconciliation(db, {
    date: check.date,
    policy: config.reconciliation.heal,
    chunkUsers: config.reconciliation.chunkUsers ?? db.engine.sweepChunkUsers,
    mode: input.mode ?? "start",
    now: input.now,
    reports: config.reports,
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    ...(input.logger ? { logger: input.logger } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
  });
}

import { Cron } from "croner";
import type { Config } from "../config.js";
import { acquireLease } from "../jobs/acquireLease.js";
import type { Db } from "../storage/openDatabase.js";
import { todayUtc } from "./checkRunDate.js";
import type { ChainLogger } from "./publishChainHead.js";
import { processHolder, runReconciliation, type ReconcileOutcome } from "./runReconciliation.js";

/** Long enough that an instance whose clock ticks late never runs the same day again. */
const LEASE_TTL_MS = 20 * 60 * 60_000;

export interface ScheduledReconciliation {
  stop(): void;
  /** What one tick does; exposed so a test can fire it without waiting for the clock. */
  tick(): Promise<ReconcileOutcome | "lease_held_elsewhere">;
}

/**
 * Runs the reconciliation of today (UTC) at `RECONCILIATION_SCHEDULE`. Every instance
 * schedules it; the lease `reconcile:<date>` in `job_leases` lets exactly one run it.
 */
export function scheduleReconciliation(
  db: Db,
  config: Config,
  options: { now?: () => Date; onError?: (error: unknown) => void; onRun?: (outcome: ReconcileOutcome) => void; logger?: ChainLogger } = {},
): ScheduledReconciliation {
  const now = options.now ?? (() => new Date());
  const holder = processHolder();
  const tick = async (): Promise<ReconcileOutcome | "lease_held_elsewhere"> => {
    const date = todayUtc(now());
    const leased = await acquireLease(db.kysely, { name: `reconcile:${date}`, holder, now: now(), ttlMs: LEASE_TTL_MS });
    if (!leased) return "lease_held_elsewhere";
    const outcome = await runReconciliation(db, {
      date,
      policy: config.reconciliation.heal,
      chunkUsers: config.reconciliation.chunkUsers,
      mode: "join",
      holder,
      now,
      reports: config.reports,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    options.onRun?.(outcome);
    return outcome;
  };
  const job = new Cron(config.reconciliation.schedule, { timezone: "UTC", protect: true }, async () => {
    try {
      await tick();
    } catch (error) {
      options.onError?.(error);
    }
  });
  return { stop: () => job.stop(), tick };
}

import { Cron } from "croner";
import type { Config } from "../config.js";
import { acquireLease } from "../jobs/acquireLease.js";
import type { Db } from "../storage/openDatabase.js";
import { todayUtc } from "./checkRunDate.js";
import type { ChainLogger } from "./publishChainHead.js";
import { pruneReports } from "./pruneReports.js";
import { syncPreviousDay } from "../providerSync/syncPreviousDay.js";
import { processHolder, runReconciliation, type ReconcileOutcome } from "./runReconciliation.js";

const DAY_MS = 86_400_000;

/**
 * Retention: after the nightly run, prunes the runs older than `days` that a verified
 * archive already holds. It never writes an archive itself: where archives are kept
 * (and copied off the machine) is the operator's choice, made with `reports archive`.
 */
async function pruneExpired(db: Db, days: number, now: Date, logger: ChainLogger | undefined): Promise<void> {
  const before = todayUtc(new Date(now.getTime() - days * DAY_MS));
  const outcome = await pruneReports(db, { before, now, partial: true });
  if (outcome.outcome === "pruned") logger?.info({ reportRetention: { before, ...outcome } }, `report retention: pruned ${outcome.runs} archived run(s) dated before ${before}`);
  const unarchived = outcome.outcome === "not_archived" || (outcome.outcome === "pruned" && outcome.kept > 0);
  if (unarchived) logger?.error({ reportRetention: { before, ...outcome } }, `report retention: runs dated before ${before} are in no archive; run reckon reports archive`);
  if (outcome.outcome === "archive_mismatch") logger?.error({ reportRetention: { before, ...outcome } }, "report retention: an archive no longer matches the database; nothing pruned");
}

/** Long enough that an instance whose clock ticks late never runs the same day again. */
const LEASE_TTL_MS = 20 * 60 * 60_000;

export interface ScheduledReconciliation {
  stop(): void;
  /** What one tick does; exposed so a test can fire it without waiting for the clock. */
  tick(): Promise<ReconcileOutcome | "lease_held_elsewhere">;
}

/**
 * Runs the reconciliation of today (UTC) at `RECONCILIATION_SCHEDULE`, after a provider
 * sync of the previous day for each provider with an API key (`syncPreviousDay`). Every instance
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
    // The providers' own records for yesterday first, so tonight's report sees their repairs.
    await syncPreviousDay(db, config, now, options.logger);
    const outcome = await runReconciliation(db, {
      date,
      policy: config.reconciliation.heal,
      chunkUsers: config.reconciliation.chunkUsers ?? db.engine.sweepChunkUsers,
      mode: "join",
      holder,
      now,
      reports: config.reports,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    options.onRun?.(outcome);
    if (config.reconciliation.reportRetentionDays !== null) await pruneExpired(db, config.reconciliation.reportRetentionDays, now(), options.logger);
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

import { backfillDeps } from "../backfill/backfillDeps.js";
import type { BackfillType } from "../backfill/BackfillRequest.js";
import { computePlan } from "../backfill/computePlan.js";
import type { Config } from "../config.js";
import { readFlag } from "../flags/runtimeFlags.js";
import { readWebhookBacklog } from "../ops/readWebhookBacklog.js";
import { todayUtc } from "../reconcile/checkRunDate.js";
import { listRunsByDay } from "../reconcile/listRunsByDay.js";
import { listSnapshots } from "../snapshot/listSnapshots.js";
import { verifySnapshot } from "../snapshot/verifySnapshot.js";
import type { Db } from "../storage/openDatabase.js";
import { checkRecentRuns, runWindow, shiftDate } from "./checkRecentRuns.js";
import { checkProdConfiguration } from "./checkProdConfiguration.js";
import { checkProviderModes } from "./checkProviderModes.js";
import { failed, passed, toReport, type CutoverCheck, type CutoverReport } from "./CutoverCheck.js";

export interface PreflightOptions {
  /** Consecutive days that must each have a clean reconciliation run. */
  days: number;
  maxViolations: number;
  snapshotDir: string;
  snapshotMaxAgeHours: number;
  now: Date;
}

async function checkBacklog(db: Db): Promise<CutoverCheck> {
  const groups = await readWebhookBacklog(db.kysely);
  if (groups.length === 0) return passed("webhook_backlog", "no failed or parked webhook events");
  const listed = groups.map((group) => `${group.count} ${group.provider} ${group.status} (${group.reason})`).join(", ");
  return failed("webhook_backlog", "webhook_events_waiting", `${listed}: replay or resolve them (docs/runbooks/webhook-events-waiting.md)`);
}

/** A backfill dry run over the window, computed and rolled back: not even a migration record stays. */
async function checkDryRun(db: Db, config: Config, type: BackfillType, window: { from: string; to: string }, now: Date): Promise<CutoverCheck> {
  const name = type === "webhook_replay" ? "replay_dry_run" : "reversal_dry_run";
  const plan = await computePlan(backfillDeps(db, config, () => now), {
    type,
    startDate: window.from,
    endDate: window.to,
    dryRun: true,
    maxEvents: config.backfill.maxEvents,
    planHash: null,
  });
  const scope = `${type} ${window.from}..${window.to}`;
  if (plan.entries.length === 0 && plan.progress.errors === 0) return passed(name, `${scope} plans nothing (${plan.progress.scanned} events scanned)`);
  return failed(
    name,
    "backfill_would_change",
    `${scope} would post ${plan.entries.length} entries${plan.progress.errors > 0 ? ` and fail on ${plan.progress.errors} events` : ""}: ` +
      `run reckon backfill ${type === "webhook_replay" ? "replay" : "reversals"} --from ${window.from} --to ${window.to} --dry-run, then apply it (docs/runbooks/backfill.md)`,
  );
}

async function checkFrozen(db: Db): Promise<CutoverCheck> {
  if (await readFlag(db.kysely, "adjustments_frozen")) return passed("adjustments_frozen", "manual adjustments are frozen");
  return failed("adjustments_frozen", "adjustments_not_frozen", "manual adjustments are not frozen: run reckon admin freeze");
}

async function checkSnapshot(config: Config, options: PreflightOptions): Promise<CutoverCheck> {
  const name = "snapshot";
  const ours = listSnapshots(options.snapshotDir).filter((found) => found.environment === config.environment);
  const newest = ours.at(-1);
  if (!newest) return failed(name, "snapshot_missing", `no ${config.environment} snapshot in ${options.snapshotDir}: run reckon snapshot create --dir ${options.snapshotDir}`);
  const ageHours = (options.now.getTime() - Date.parse(newest.createdAt)) / 3_600_000;
  if (ageHours > options.snapshotMaxAgeHours) {
    return failed(name, "snapshot_too_old", `the newest snapshot ${newest.name} is ${Math.floor(ageHours)} hours old (at most ${options.snapshotMaxAgeHours})`);
  }
  const verified = await verifySnapshot(newest.manifestPath);
  if (verified.outcome === "failed") return failed(name, "snapshot_unverified", `${newest.name}: ${verified.problems.join("; ")}`);
  return passed(name, `${newest.name} (${newest.createdAt}) is verified and newer than ${options.snapshotMaxAgeHours} hours`);
}

async function countStripeOfOtherMode(db: Db, config: Config): Promise<number> {
  const row = await db.kysely
    .selectFrom("webhook_events")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("provider", "=", "stripe")
    .where("livemode", "=", config.environment === "prod" ? 0 : 1)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * `reckon cutover preflight`: every condition of switching the providers' webhooks to
 * this environment, each checked and reported with a reason. It writes nothing.
 */
export async function runPreflight(db: Db, config: Config, options: PreflightOptions): Promise<CutoverReport> {
  const today = todayUtc(options.now);
  const rule = { today, days: options.days, maxViolations: options.maxViolations };
  const runs = await listRunsByDay(db.kysely, shiftDate(today, -options.days), today);
  const window = runWindow(rule, runs.some((run) => run.date === today));
  return toReport([
    checkRecentRuns(runs, rule),
    await checkBacklog(db),
    await checkDryRun(db, config, "webhook_replay", window, options.now),
    await checkDryRun(db, config, "reversal_backfill", window, options.now),
    await checkFrozen(db),
    await checkSnapshot(config, options),
    checkProdConfiguration(config),
    checkProviderModes(config, { stripeDeliveriesOfOtherMode: await countStripeOfOtherMode(db, config) }),
  ]);
}

import type { Environment, ReversalPolicy } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { ProviderClient } from "../providerSync/ProviderRecords.js";
import { planProviderSync } from "../providerSync/planProviderSync.js";
import { providerFailed, runProviderSync } from "../providerSync/runProviderSync.js";
import { sampleOf } from "../providerSync/saveSyncProgress.js";
import { isUniqueViolation } from "../storage/isUniqueViolation.js";
import type { Db } from "../storage/openDatabase.js";
import { abandonStaleRuns } from "./abandonStaleRuns.js";
import type { BackfillRequest } from "./BackfillRequest.js";
import type { ActionLogger } from "./logBackfillActions.js";
import { computePlan } from "./computePlan.js";
import { guardRun, type Ending } from "./guardRun.js";
import { FINDINGS_SAMPLE_LIMIT, PLAN_SAMPLE_LIMIT, readBackfillRun, type BackfillRun } from "./backfillRuns.js";
import { runBatches } from "./runBatches.js";
import { holdRun, newHolder, RunNotHeld, type RunHandle } from "./runLease.js";

export interface BackfillDeps {
  db: Db;
  now: () => Date;
  newId: () => string;
  reversalPolicy: ReversalPolicy;
  batchSize: number;
  /**
   * Called after each committed batch with the record as saved, and how many events the
   * run scans in all (counted once as it starts: its scanned so far plus what remains, up
   * to maxEvents); for progress bars.
   */
  onProgress?: (record: BackfillRun, eventsTotal: number) => void;
  /** Where each event a run acted on is logged, with its before and after (`logBackfillActions`). */
  logger?: ActionLogger;
  /** The request that started the run, for the log lines. */
  requestId?: string;
  /** Provider sync: each provider's API client (null when it has no API key) and the environment its events must belong to. */
  sync?: { environment: Environment; clientFor: (provider: Provider) => ProviderClient | null };
}

export type StartOutcome =
  /** The run is going; `done` settles with its final record (a dry run's too). */
  | { outcome: "started"; record: BackfillRun; done: Promise<BackfillRun> }
  /** Another run of this type holds the slot and is alive; nothing was written. */
  | { outcome: "already_running"; runningId: string }
  /** The plan computed now differs from the one approved; the record says so. */
  | { outcome: "plan_changed"; expected: string; actual: string; record: BackfillRun };

type Claim =
  | { outcome: "claimed"; run: RunHandle; record: BackfillRun; release: () => void }
  | { outcome: "already_running"; runningId: string };

/**
 * Writes the run's `running` record, which takes its type's slot. A slot held by a
 * dead run is freed first (the dead run ends `failed`, reason `abandoned`). The hold
 * is taken before the record exists, so this process never sees its own new record
 * without a live holder.
 */
async function claimRun(deps: BackfillDeps, request: BackfillRequest): Promise<Claim> {
  const { type, ...params } = request;
  for (let attempt = 1; ; attempt++) {
    const run: RunHandle = { id: deps.newId(), holder: newHolder() };
    const now = deps.now().toISOString();
    const release = holdRun(deps.db.kysely, run, deps.now);
    try {
      await deps.db.kysely
        .insertInto("data_migrations")
        .values({
          id: run.id,
          type,
          params: JSON.stringify(params),
          dry_run: request.dryRun ? 1 : 0,
          status: "running",
          max_events: request.maxEvents,
          holder: run.holder,
          started_at: now,
          updated_at: now,
          heartbeat_at: now,
        })
        .execute();
      return { outcome: "claimed", run, release, record: (await readBackfillRun(deps.db.kysely, run.id))! };
    } catch (error) {
      release();
      if (!isUniqueViolation(error)) throw error;
    }
    if (attempt === 1 && (await abandonStaleRuns(deps.db.kysely, type, deps.now())) > 0) continue;
    const running = await deps.db.kysely
      .selectFrom("data_migrations")
      .select("id")
      .where("type", "=", type)
      .where("status", "=", "running")
      .executeTakeFirst();
    return { outcome: "already_running", runningId: running?.id ?? "unknown" };
  }
}

/** A provider sync's dry run: its plan and findings, written on the record; nothing else stays written. */
async function planSyncOnly(deps: BackfillDeps, run: RunHandle, request: BackfillRequest): Promise<Ending> {
  const planned = await planProviderSync(deps, request, run.id);
  if (!planned.ok) return providerFailed(planned.failure);
  const { plan } = planned;
  const saved = await deps.db.kysely
    .updateTable("data_migrations")
    .set({
      scanned: plan.scanned,
      processed: plan.repaired,
      skipped: plan.matched,
      plan_hash: plan.hash,
      planned_entries: plan.entries.length,
      plan_sample: JSON.stringify(plan.entries.slice(0, PLAN_SAMPLE_LIMIT)),
      findings_found: plan.findings.length,
      findings_sample: JSON.stringify(plan.findings.slice(0, FINDINGS_SAMPLE_LIMIT).map(sampleOf)),
    })
    .where("id", "=", run.id)
    .where("holder", "=", run.holder)
    .where("status", "=", "running")
    .executeTakeFirst();
  if (Number(saved.numUpdatedRows) !== 1) throw new RunNotHeld(run.id);
  return { end: "finished", status: "completed", failure: null };
}

/** The hash of the plan a run of `request` would carry out now (a provider sync's, or a replay's). */
async function currentPlanHash(deps: BackfillDeps, request: BackfillRequest, runId: string): Promise<string | ProviderFailure> {
  if (request.type !== "provider_sync") return (await computePlan(deps, request)).hash;
  const planned = await planProviderSync(deps, request, runId);
  return planned.ok ? planned.plan.hash : { failure: planned.failure };
}
type ProviderFailure = { failure: Parameters<typeof providerFailed>[0] };

/** A dry run: the plan, written on the record; nothing else stays written. */
async function planOnly(deps: BackfillDeps, run: RunHandle, request: BackfillRequest): Promise<Ending> {
  if (request.type === "provider_sync") return planSyncOnly(deps, run, request);
  const plan = await computePlan(deps, request);
  const saved = await deps.db.kysely
    .updateTable("data_migrations")
    .set({
      scanned: plan.progress.scanned,
      processed: plan.progress.processed,
      skipped: plan.progress.skipped,
      errors: plan.progress.errors,
      error_samples: JSON.stringify(plan.progress.errorSamples),
      plan_hash: plan.hash,
      planned_entries: plan.entries.length,
      plan_sample: JSON.stringify(plan.entries.slice(0, PLAN_SAMPLE_LIMIT)),
    })
    .where("id", "=", run.id)
    .where("holder", "=", run.holder)
    .where("status", "=", "running")
    .executeTakeFirst();
  if (Number(saved.numUpdatedRows) !== 1) throw new RunNotHeld(run.id);
  return { end: "finished", status: plan.progress.errors > 0 ? "partial" : "completed", failure: null };
}

/**
 * Starts a backfill. A dry run computes its plan in a transaction that is rolled back,
 * so it writes nothing but its own record. A run given a plan hash first computes the
 * plan the same way and refuses to apply a different one. The whole run, plan check
 * included, is one `guardRun`, which ends the record on every path.
 */
export async function startBackfill(deps: BackfillDeps, request: BackfillRequest): Promise<StartOutcome> {
  const claim = await claimRun(deps, request);
  if (claim.outcome === "already_running") return claim;
  const { run, record, release } = claim;
  if (request.dryRun) return { outcome: "started", record, done: guardRun(deps, run, release, () => planOnly(deps, run, request)) };
  const applyAll = () =>
    request.type === "provider_sync" ? runProviderSync(deps, run, request, { cursor: null, scanned: 0 }) : runBatches(deps, run, request, { cursor: null, scanned: 0 });
  const approved = request.planHash;
  if (approved === null) return { outcome: "started", record, done: guardRun(deps, run, release, applyAll) };

  let verdict: (actual: string | null) => void = () => undefined;
  const checked = new Promise<string | null>((resolve) => (verdict = resolve));
  const done = guardRun(deps, run, release, async () => {
    const hash = await currentPlanHash(deps, request, run.id);
    if (typeof hash !== "string") {
      verdict(null);
      return providerFailed(hash.failure);
    }
    verdict(hash === approved ? null : hash);
    if (hash === approved) return applyAll();
    return { end: "finished", status: "failed", failure: { reason: "plan_changed", detail: `approved ${approved}, now ${hash}` } };
  });
  // The plan check either gives a verdict or, having thrown, ends the run failed.
  const actual = await Promise.race([checked, done.then(() => null)]);
  if (actual === null) return { outcome: "started", record, done };
  return { outcome: "plan_changed", expected: approved, actual, record: await done };
}

import { Counter, Gauge, Registry } from "prom-client";
import { BACKFILL_TYPES } from "../backfill/BackfillRequest.js";
import { PROVIDERS } from "../providers/PaymentEvent.js";
import type { Db } from "../storage/openDatabase.js";
import { readStoredState, type StoredState } from "./readStoredState.js";
import { storedStateGeneration } from "./storedStateChanged.js";
import { readTopDeltas } from "../reconcile/readTopDeltas.js";
import { WAITING_STATUSES } from "./readWebhookBacklog.js";

export interface StoredStateOptions {
  /** How long one read of the database answers scrapes; several scrapers share it. */
  cacheMs?: number;
  nowMs?: () => number;
}

export const STORED_STATE_CACHE_MS = 5_000;

/** How many of a run's largest drifts the metrics show. */
const TOP_DELTAS = 5;
/**
 * Gauges that describe what is stored, read from the database when `/metrics` is
 * scraped (prom-client `collect()`), so every instance behind the load balancer, and
 * one just restarted, reports what the last run found, not what it ran itself. All
 * gauges of one scrape share one read, cached for `cacheMs`, or until a job of this
 * process marks the stored state changed (`markStoredStateChanged`).
 */
export function storedStateMetrics(db: Db, options: StoredStateOptions = {}): Registry {
  const cacheMs = options.cacheMs ?? STORED_STATE_CACHE_MS;
  const nowMs = options.nowMs ?? Date.now;
  let cached: { atMs: number; generation: number; state: Promise<StoredState> } | null = null;
  const state = (): Promise<StoredState> => {
    const at = nowMs();
    const generation = storedStateGeneration();
    if (cached === null || at - cached.atMs >= cacheMs || cached.generation !== generation) {
      const reading = readStoredState(db.kysely, at);
      // A failed read is not kept: the next scrape tries again.
      reading.catch(() => (cached = null));
      cached = { atMs: at, generation, state: reading };
    }
    return cached.state;
  };
  const registry = new Registry();
  const registers = [registry];
  const lastRunGauge = (name: string, help: string, pick: (run: NonNullable<StoredState["reconciliation"]["lastCompleted"]>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const run = (await state()).reconciliation.lastCompleted;
        this.set(run === null ? 0 : pick(run));
      },
    });

  lastRunGauge("wallet_invariant_violations", "Users whose wallet differed from the sum of their entries in the newest completed reconciliation run", (run) => run.violations);
  lastRunGauge("reconciliation_adjustment_amount", "Absolute points moved by the heals of the newest completed reconciliation run", (run) => run.adjustmentAbsTotal);
  lastRunGauge("reconciliation_refused_heals", "Drifted users whose heal could not be written in the newest completed reconciliation run", (run) => run.refused);
  lastRunGauge("reconciliation_users_checked", "Users checked by the newest completed reconciliation run", (run) => run.usersChecked);
  lastRunGauge("reconciliation_run_duration_seconds", "Wall time of the newest completed reconciliation run, from its start to its completion", (run) => (run.finishedAtMs - run.startedAtMs) / 1000);
  lastRunGauge("reconciliation_last_success_timestamp_seconds", "Unix time at which the newest completed reconciliation run completed; 0 before the first", (run) => run.finishedAtMs / 1000);
  lastRunGauge("reckon_report_chain_head_position", "Chain position of the newest completed reconciliation run; it never goes down unless reports were deleted", (run) => run.chainPosition);

  // A completed run's lines never change: its top deltas are read once per run.
  let topDeltas: { runId: number; deltas: Promise<number[]> } | null = null;
  new Gauge({
    name: "reconciliation_top_delta_points",
    help: `The ${TOP_DELTAS} largest drifts (wallet minus ledger, signed) of the newest completed reconciliation run, by rank; 0 past the run's drifted users`,
    labelNames: ["rank"] as const,
    registers,
    async collect() {
      const run = (await state()).reconciliation.lastCompleted;
      if (run !== null && topDeltas?.runId !== run.runId) {
        const deltas = readTopDeltas(db.kysely, run.runId, TOP_DELTAS).then((lines) => lines.map((line) => line.delta));
        deltas.catch(() => (topDeltas = null));
        topDeltas = { runId: run.runId, deltas };
      }
      const deltas = run === null || topDeltas === null ? [] : await topDeltas.deltas;
      for (let rank = 1; rank <= TOP_DELTAS; rank++) this.set({ rank: String(rank) }, deltas[rank - 1] ?? 0);
    },
  });

  new Gauge({
    name: "reconciliation_open_run_age_seconds",
    help: "Age of the oldest reconciliation run still running or finalizing; 0 when none is open",
    registers,
    async collect() {
      const current = await state();
      const started = current.reconciliation.oldestOpenStartedAtMs;
      this.set(started === null ? 0 : Math.max(0, (current.readAtMs - started) / 1000));
    },
  });
  new Gauge({
    name: "reconciliation_failed_runs_since_success",
    help: "Reconciliation runs that ended failed after the newest completed run",
    registers,
    async collect() {
      this.set((await state()).reconciliation.failedSinceSuccess);
    },
  });

  new Counter({
    name: "backfill_processed_events",
    help: "Events handled by every applying backfill run stored in the database, by type and outcome (processed, skipped, error)",
    labelNames: ["type", "outcome"] as const,
    registers,
    async collect() {
      const byType = new Map((await state()).backfill.map((row) => [row.type, row]));
      this.reset();
      for (const type of BACKFILL_TYPES) {
        const row = byType.get(type);
        this.inc({ type, outcome: "processed" }, row?.processed ?? 0);
        this.inc({ type, outcome: "skipped" }, row?.skipped ?? 0);
        this.inc({ type, outcome: "error" }, row?.errors ?? 0);
      }
    },
  });
  new Gauge({
    name: "backfill_error_rate",
    help: "Share of scanned events that ended in an error (0 to 1), for the newest ended applying backfill run of each type",
    labelNames: ["type"] as const,
    registers,
    async collect() {
      const byType = new Map((await state()).backfill.map((row) => [row.type, row.newestRun]));
      for (const type of BACKFILL_TYPES) {
        const run = byType.get(type);
        this.set({ type }, !run || run.scanned === 0 ? 0 : run.errors / run.scanned);
      }
    },
  });

  new Gauge({
    name: "reckon_provider_findings",
    help: "Differences between a provider's own records and the ledger found by provider sync, by provider, kind and status",
    labelNames: ["provider", "kind", "status"] as const,
    registers,
    async collect() {
      this.reset();
      for (const group of (await state()).providerFindings) this.set({ provider: group.provider, kind: group.kind, status: group.status }, group.count);
    },
  });
  new Gauge({
    name: "reckon_webhook_events_waiting",
    help: "Stored webhook events that failed or are parked, by provider, status and reason; replayable",
    labelNames: ["provider", "status", "reason"] as const,
    registers,
    async collect() {
      this.reset();
      for (const group of (await state()).waiting) this.inc({ provider: group.provider, status: group.status, reason: group.reason }, group.count);
    },
  });
  new Gauge({
    name: "reckon_webhook_events_waiting_age_seconds",
    help: "Age of the oldest failed or parked webhook event, by provider and status; 0 when none waits",
    labelNames: ["provider", "status"] as const,
    registers,
    async collect() {
      const current = await state();
      for (const provider of PROVIDERS) {
        for (const status of WAITING_STATUSES) {
          const oldest = Math.min(...current.waiting.filter((group) => group.provider === provider && group.status === status).map((group) => group.oldestReceivedAtMs));
          this.set({ provider, status }, Number.isFinite(oldest) ? Math.max(0, (current.readAtMs - oldest) / 1000) : 0);
        }
      }
    },
  });

  new Gauge({
    name: "reckon_runtime_flag",
    help: "Runtime flags stored in the database and honoured by every instance, 1 when on",
    labelNames: ["name"] as const,
    registers,
    async collect() {
      for (const flag of (await state()).flags) this.set({ name: flag.name }, flag.value ? 1 : 0);
    },
  });
  return registry;
}

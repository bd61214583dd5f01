import { Gauge } from "prom-client";
import { registry } from "../ops/metrics.js";

/** Figures of the last completed reconciliation run seen by this process. */
export const reconcileMetrics = {
  violations: new Gauge({
    name: "wallet_invariant_violations",
    help: "Users whose wallet differed from the sum of their entries in the last reconciliation run",
    registers: [registry],
  }),
  adjustmentAmount: new Gauge({
    name: "reconciliation_adjustment_amount",
    help: "Absolute points moved by the heals of the last reconciliation run",
    registers: [registry],
  }),
  durationSeconds: new Gauge({
    name: "reconciliation_run_duration_seconds",
    help: "Wall time of the last reconciliation run, from its start to its completion",
    registers: [registry],
  }),
  usersChecked: new Gauge({
    name: "reconciliation_users_checked",
    help: "Users checked by the last reconciliation run",
    registers: [registry],
  }),
  refusedHeals: new Gauge({
    name: "reconciliation_refused_heals",
    help: "Drifted users whose heal could not be written in the last reconciliation run (their report lines say refused)",
    registers: [registry],
  }),
  chainHeadPosition: new Gauge({
    name: "reckon_report_chain_head_position",
    help: "Chain position of the newest completed reconciliation run; it never goes down unless reports were deleted",
    registers: [registry],
  }),
  lastSuccessSeconds: new Gauge({
    name: "reconciliation_last_success_timestamp_seconds",
    help: "Unix time at which the last reconciliation run completed",
    registers: [registry],
  }),
};

export function recordRunMetrics(summary: {
  violations: number;
  refused: number;
  adjustmentAbsTotal: number;
  usersChecked: number;
  startedAt: string;
  finishedAt: string | null;
}): void {
  if (summary.finishedAt === null) return;
  const finishedMs = Date.parse(summary.finishedAt);
  reconcileMetrics.violations.set(summary.violations);
  reconcileMetrics.refusedHeals.set(summary.refused);
  reconcileMetrics.adjustmentAmount.set(summary.adjustmentAbsTotal);
  reconcileMetrics.usersChecked.set(summary.usersChecked);
  reconcileMetrics.durationSeconds.set((finishedMs - Date.parse(summary.startedAt)) / 1000);
  reconcileMetrics.lastSuccessSeconds.set(finishedMs / 1000);
}

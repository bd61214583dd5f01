import { Counter, Gauge } from "prom-client";
import { registry } from "../ops/metrics.js";

/** Events a backfill looked at, by type and what became of them (seed name, kept exactly). */
export const backfillProcessedEvents = new Counter({
  name: "backfill_processed_events",
  help: "Events handled by backfill runs, by type and outcome (processed, skipped, error)",
  labelNames: ["type", "outcome"] as const,
  registers: [registry],
});

/** Errors per scanned event of the newest run of each type, 0 to 1 (seed name, kept exactly). */
export const backfillErrorRate = new Gauge({
  name: "backfill_error_rate",
  help: "Share of scanned events that ended in an error, for the newest backfill run of each type",
  labelNames: ["type"] as const,
  registers: [registry],
});

import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * The process's metrics. Names use base units and `_total` for counters, except the
 * four names the seed fixed (`wallet_invariant_violations`,
 * `reconciliation_adjustment_amount`, `backfill_processed_events`,
 * `backfill_error_rate`), kept exactly. Labels are low-cardinality: never a user id.
 *
 * Each part declares its own metrics on this registry in its own module
 * (`src/<part>/metrics.ts`), so no file lists every metric by hand.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

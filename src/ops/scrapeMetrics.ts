import { Registry } from "prom-client";
import type { Db } from "../storage/openDatabase.js";
import { registry } from "./metrics.js";
import { storedStateMetrics } from "./storedStateMetrics.js";

/** One stored-state registry (and so one cache) per open database. */
const storedByDb = new WeakMap<Db, Registry>();

/**
 * The text `/metrics` answers: this process's counters and histograms next to the
 * gauges read from `db`'s stored state.
 */
export async function scrapeMetrics(db: Db): Promise<{ text: string; contentType: string }> {
  let stored = storedByDb.get(db);
  if (!stored) {
    stored = storedStateMetrics(db);
    storedByDb.set(db, stored);
  }
  const merged = Registry.merge([registry, stored]);
  return { text: await merged.metrics(), contentType: merged.contentType };
}

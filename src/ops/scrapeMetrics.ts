import { Registry } from "prom-client";
import type { Db } from "../storage/openDatabase.js";
import { registry } from "./metrics.js";
import { readStoredState } from "./readStoredState.js";
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

/**
 * Runs the stored-state reads and renders this process's registry once, keeping nothing:
 * `serve` calls it before it listens, so the first scrape of a fresh server finds an open
 * connection and compiled code, and costs what later ones do. The scrape cache is left
 * empty: the first scrape still reads what is stored at that moment.
 */
export async function warmMetrics(db: Db): Promise<void> {
  await readStoredState(db.kysely, Date.now());
  await registry.metrics();
}

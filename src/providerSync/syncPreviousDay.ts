import { backfillDeps } from "../backfill/backfillDeps.js";
import { backfillJob } from "../backfill/backfillJob.js";
import type { Config } from "../config.js";
import { PROVIDERS, type Provider } from "../providers/PaymentEvent.js";
import type { ChainLogger } from "../reconcile/publishChainHead.js";
import type { Db } from "../storage/openDatabase.js";
import { providerClientFor } from "./providerClientFor.js";

const DAY_MS = 86_400_000;

export interface ScheduledSync {
  provider: Provider;
  date: string;
  /** The run's final status, or why none ran (`already_running`, `failed_to_start`…). */
  status: string;
  migrationId: string | null;
  findingsFound: number;
}

/**
 * Before the nightly reconciliation: a provider sync of the previous day (UTC) for each
 * provider with an API key, unless PROVIDER_SYNC_SCHEDULED=0. A sync that fails is
 * logged and recorded on its own run, and never keeps the reconciliation from running.
 */
export async function syncPreviousDay(db: Db, config: Config, now: () => Date, logger?: ChainLogger): Promise<ScheduledSync[]> {
  if (!config.providerSync.scheduled || !config.features.backfillEnabled) return [];
  const date = new Date(now().getTime() - DAY_MS).toISOString().slice(0, 10);
  const synced: ScheduledSync[] = [];
  for (const provider of PROVIDERS) {
    if (!providerClientFor(config, provider)) continue;
    try {
      const started = await backfillJob(backfillDeps(db, config, now), config, { type: "provider_sync", provider, startDate: date, endDate: date });
      if (started.outcome !== "started") {
        synced.push({ provider, date, status: started.outcome, migrationId: null, findingsFound: 0 });
        continue;
      }
      const run = await started.done;
      synced.push({ provider, date, status: run.status, migrationId: run.id, findingsFound: run.findingsFound });
    } catch (error) {
      synced.push({ provider, date, status: "failed_to_start", migrationId: null, findingsFound: 0 });
      logger?.error({ providerSync: { provider, date }, err: error }, `provider sync of ${provider} for ${date} could not run`);
    }
  }
  if (synced.length > 0) logger?.info({ providerSync: synced }, `provider sync before reconciliation: ${synced.map((s) => `${s.provider} ${s.status}`).join(", ")}`);
  return synced;
}

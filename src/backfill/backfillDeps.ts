import { randomBytes } from "node:crypto";
import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import { providerClientFor } from "../providerSync/providerClientFor.js";
import type { BackfillDeps } from "./startBackfill.js";

/** A backfill run id (stored in data_migrations) that sorts by start time: `bf_20260301T120000_<8 hex>`. */
export function newBackfillRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `bf_${stamp}_${randomBytes(4).toString("hex")}`;
}

/** The backfill's dependencies as the server and the CLI configure them. */
export function backfillDeps(
  db: Db,
  config: Config,
  now: () => Date,
  onProgress?: BackfillDeps["onProgress"],
): BackfillDeps {
  return {
    db,
    now,
    newId: () => newBackfillRunId(now()),
    reversalPolicy: config.webhooks.reversalPolicy,
    batchSize: config.backfill.batchSize,
    sync: { environment: config.environment, clientFor: (provider) => providerClientFor(config, provider) },
    ...(onProgress ? { onProgress } : {}),
  };
}

import { randomBytes } from "node:crypto";
import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import type { MigrationRecord } from "./migrationRecords.js";
import type { BackfillDeps } from "./runBackfill.js";

/** A migration id that sorts by start time: `bf_20260301T120000_<8 hex>`. */
export function newMigrationId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `bf_${stamp}_${randomBytes(4).toString("hex")}`;
}

/** The backfill's dependencies as the server and the CLI configure them. */
export function backfillDeps(
  db: Db,
  config: Config,
  now: () => Date,
  onProgress?: (record: MigrationRecord) => void,
): BackfillDeps {
  return {
    db,
    now,
    newId: () => newMigrationId(now()),
    reversalPolicy: config.webhooks.reversalPolicy,
    batchSize: config.backfill.batchSize,
    ...(onProgress ? { onProgress } : {}),
  };
}

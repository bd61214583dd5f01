import type { Kysely } from "kysely";
import { BACKFILL_TYPES, type BackfillType } from "../backfill/BackfillRequest.js";
import type { Schema } from "../storage/schema.js";

export interface BackfillTypeState {
  type: BackfillType;
  /** Events handled by every applying (not dry) run of the type, over the database's life. */
  processed: number;
  skipped: number;
  errors: number;
  /** The newest ended applying run's errors per scanned event, 0 when it scanned none. */
  newestRun: { scanned: number; errors: number } | null;
}

/**
 * Three reads of `data_migrations`, a table of one row per backfill run: the totals per
 * type, then the newest ended run of each type through `data_migrations_type_status`.
 */
export async function readBackfillState(db: Kysely<Schema>): Promise<BackfillTypeState[]> {
  const totals = await db
    .selectFrom("data_migrations")
    .select((eb) => [
      "type",
      eb.fn.sum<number>("processed").as("processed"),
      eb.fn.sum<number>("skipped").as("skipped"),
      eb.fn.sum<number>("errors").as("errors"),
    ])
    .where("dry_run", "=", 0)
    .groupBy("type")
    .execute();
  const newestByType = new Map<string, { scanned: number; errors: number }>();
  for (const type of BACKFILL_TYPES) {
    // Runs of one type never overlap, so the latest start is the newest run; the id breaks a tie.
    const newest = await db
      .selectFrom("data_migrations")
      .select(["scanned", "errors"])
      .where("type", "=", type)
      .where("dry_run", "=", 0)
      .where("finished_at", "is not", null)
      .orderBy("started_at", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    if (newest) newestByType.set(type, { scanned: Number(newest.scanned), errors: Number(newest.errors) });
  }
  return totals.map((row) => ({
    type: row.type as BackfillType,
    processed: Number(row.processed),
    skipped: Number(row.skipped),
    errors: Number(row.errors),
    newestRun: newestByType.get(row.type) ?? null,
  }));
}

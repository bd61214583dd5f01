import type { Kysely } from "kysely";
import type { BackfillType } from "../backfill/BackfillRequest.js";
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
 * Two reads of `data_migrations`, a table of one row per backfill run: the totals per
 * type, and the newest ended run of each type (migration ids sort by start time).
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
  const newest = await db
    .selectFrom("data_migrations")
    .select(["type", "scanned", "errors"])
    .where("id", "in", (eb) =>
      eb.selectFrom("data_migrations").select((inner) => inner.fn.max("id").as("id")).where("dry_run", "=", 0).where("finished_at", "is not", null).groupBy("type"),
    )
    .execute();
  const newestByType = new Map(newest.map((row) => [row.type, { scanned: Number(row.scanned), errors: Number(row.errors) }]));
  return totals.map((row) => ({
    type: row.type as BackfillType,
    processed: Number(row.processed),
    skipped: Number(row.skipped),
    errors: Number(row.errors),
    newestRun: newestByType.get(row.type) ?? null,
  }));
}

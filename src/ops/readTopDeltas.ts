import { sql, type Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** How many of a run's largest drifts the metrics show. */
export const TOP_DELTAS = 5;

/**
 * The largest drifts (signed, ordered by size) of one completed run, from its report
 * lines. It reads the run's lines through the primary key (`run_id`, `uid`); a completed
 * run's lines never change, so the caller reads them once per run.
 */
export async function readTopDeltas(db: Kysely<Schema>, runId: number): Promise<number[]> {
  const rows = await db
    .selectFrom("reconciliation_user_reports")
    .select("delta")
    .where("run_id", "=", runId)
    .where("delta", "<>", 0)
    .orderBy(sql`abs(delta)`, "desc")
    .orderBy("uid")
    .limit(TOP_DELTAS)
    .execute();
  return rows.map((row) => Number(row.delta));
}

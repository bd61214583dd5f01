import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { toRunSummary, type RunSummary } from "./readReports.js";

/**
 * The report of each date from `fromDate` to `toDate` (inclusive), oldest first: a
 * date's latest run, as `readReport` gives it (a date may be run again after a revert).
 * Dates without a run are absent, never reported as zero.
 */
export async function listRunsByDay(db: Kysely<Schema>, fromDate: string, toDate: string): Promise<RunSummary[]> {
  const rows = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where("run_date", ">=", fromDate)
    .where("run_date", "<=", toDate)
    .orderBy("run_date")
    .orderBy("id")
    .execute();
  const latest = new Map<string, RunSummary>();
  for (const row of rows) latest.set(row.run_date, toRunSummary(row));
  return [...latest.values()];
}

/** The most recent run of any date (the one started last), or null before the first run. */
export async function readLatestRun(db: Kysely<Schema>): Promise<RunSummary | null> {
  const row = await db.selectFrom("reconciliation_runs").selectAll().orderBy("id", "desc").limit(1).executeTakeFirst();
  return row ? toRunSummary(row) : null;
}

import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** What the stored reconciliation runs say, as every instance reads it. */
export interface ReconciliationState {
  /** The newest completed run (the head of the report chain), or null before the first. */
  lastCompleted: {
    runId: number;
    violations: number;
    adjustmentAbsTotal: number;
    refused: number;
    usersChecked: number;
    startedAtMs: number;
    finishedAtMs: number;
    chainPosition: number;
  } | null;
  /** When the oldest run still `running` or `finalizing` started; null when none is open. */
  oldestOpenStartedAtMs: number | null;
  /** Runs that ended `failed` after the newest completed one. */
  failedSinceSuccess: number;
}

/**
 * Three reads of `reconciliation_runs`, a table of one row per run: the chain head
 * through the unique index on `chain_position` (`reconciliation_runs_chain`), the open
 * runs through the partial index on open runs (`reconciliation_runs_one_open`), and
 * the failed runs after the head by primary key.
 */
export async function readReconciliationState(db: Kysely<Schema>): Promise<ReconciliationState> {
  const head = await db
    .selectFrom("reconciliation_runs")
    .select(["id", "violations", "adjustment_abs_total", "refused", "users_checked", "started_at", "finished_at", "chain_position"])
    .where("chain_position", "is not", null)
    .orderBy("chain_position", "desc")
    .limit(1)
    .executeTakeFirst();
  const open = await db
    .selectFrom("reconciliation_runs")
    .select((eb) => eb.fn.min("started_at").as("started_at"))
    .where("status", "in", ["running", "finalizing"])
    .executeTakeFirst();
  const failed = await db
    .selectFrom("reconciliation_runs")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("status", "=", "failed")
    .where("id", ">", head?.id ?? 0)
    .executeTakeFirstOrThrow();
  return {
    lastCompleted:
      head && head.finished_at !== null
        ? {
            runId: Number(head.id),
            violations: Number(head.violations),
            adjustmentAbsTotal: Number(head.adjustment_abs_total),
            refused: Number(head.refused),
            usersChecked: Number(head.users_checked),
            startedAtMs: Date.parse(head.started_at),
            finishedAtMs: Date.parse(head.finished_at),
            chainPosition: Number(head.chain_position),
          }
        : null,
    oldestOpenStartedAtMs: open?.started_at ? Date.parse(String(open.started_at)) : null,
    failedSinceSuccess: Number(failed.n),
  };
}

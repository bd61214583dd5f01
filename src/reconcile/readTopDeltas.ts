import { sql, type Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

export interface DeltaLine {
  uid: string;
  walletPoints: number;
  ledgerSum: number;
  delta: number;
  action: string;
  reason: string | null;
}

/** A run's drifted users, largest drift (either sign) first, then by user id; at most `limit`. */
export async function readTopDeltas(db: Kysely<Schema>, runId: number, limit: number): Promise<DeltaLine[]> {
  const rows = await db
    .selectFrom("reconciliation_user_reports")
    .select(["uid", "wallet_points", "ledger_sum", "delta", "action", "reason"])
    .where("run_id", "=", runId)
    // A literal, as the partial index on drifted lines says it (migration 11): the planner
    // reads the run's few drifted lines through it instead of every line of the run.
    .where("delta", "<>", sql.lit(0))
    .orderBy(sql`abs(delta)`, "desc")
    .orderBy("uid")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    uid: row.uid,
    walletPoints: Number(row.wallet_points),
    ledgerSum: Number(row.ledger_sum),
    delta: Number(row.delta),
    action: row.action,
    reason: row.reason,
  }));
}

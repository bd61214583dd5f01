import { sql, type Kysely } from "kysely";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import { isStale } from "./openRun.js";
import { yieldToRequests } from "./sweepChunk.js";
import { lineHash, lineTotals, LinesDigest, runChecksum, type LineAction, type ReportLine } from "./reportHashes.js";

export type FinalizeOutcome =
  | { outcome: "completed" }
  /** Chunks remain with other processes; the last of them finalizes. */
  | { outcome: "others_working" };

/** Lines of a run in user-id order, a page at a time: never the whole report in memory. */
export async function* streamLines(db: Kysely<Schema>, runId: number, pageSize = 20_000): AsyncGenerator<ReportLine & { lineHash: string }> {
  let after: string | null = null;
  for (;;) {
    let query = db
      .selectFrom("reconciliation_user_reports")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("uid")
      .limit(pageSize);
    if (after !== null) query = query.where("uid", ">", after);
    const rows = await query.execute();
    for (const row of rows) {
      yield {
        uid: row.uid,
        walletPoints: Number(row.wallet_points),
        ledgerSum: Number(row.ledger_sum),
        ledgerCount: Number(row.ledger_count),
        delta: Number(row.delta),
        action: row.action as LineAction,
        adjustmentEntryId: row.adjustment_entry_id === null ? null : Number(row.adjustment_entry_id),
        lineHash: row.line_hash,
      };
    }
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.uid;
  }
}

export interface LinesSummary {
  usersChecked: number;
  violations: number;
  adjustmentAbsTotal: number;
  digest: string;
}

/**
 * Recomputes every line's hash from its fields and folds them in user-id order.
 * `onLine` sees each line with its recomputed hash (verify uses it to name altered lines).
 */
export async function summarizeLines(
  db: Kysely<Schema>,
  runId: number,
  runDate: string,
  onLine?: (line: ReportLine & { lineHash: string }, recomputed: string) => void,
): Promise<LinesSummary> {
  const digest = new LinesDigest();
  const summary = { usersChecked: 0, violations: 0, adjustmentAbsTotal: 0 };
  for await (const line of streamLines(db, runId)) {
    const recomputed = lineHash(runDate, line);
    onLine?.(line, recomputed);
    digest.add(recomputed);
    const totals = lineTotals(line);
    summary.usersChecked += 1;
    summary.violations += totals.violation;
    summary.adjustmentAbsTotal += totals.adjusted;
  }
  return { ...summary, digest: digest.hex() };
}

/**
 * The run's figures and digest from the hashes the sweep stored (finalize trusts them:
 * it wrote them moments ago; verify is the one that recomputes). Reads four columns a
 * page at a time, so the event loop and live requests get a turn between pages.
 */
async function foldStoredLines(db: Kysely<Schema>, runId: number, pageSize = 20_000): Promise<LinesSummary> {
  const digest = new LinesDigest();
  const summary = { usersChecked: 0, violations: 0, adjustmentAbsTotal: 0 };
  let after: string | null = null;
  for (;;) {
    let query = db
      .selectFrom("reconciliation_user_reports")
      .select(["uid", "delta", "action", "line_hash"])
      .where("run_id", "=", runId)
      .orderBy("uid")
      .limit(pageSize);
    if (after !== null) query = query.where("uid", ">", after);
    const rows = await query.execute();
    for (const row of rows) {
      digest.add(row.line_hash);
      const totals = lineTotals({ delta: Number(row.delta), action: row.action as LineAction });
      summary.usersChecked += 1;
      summary.violations += totals.violation;
      summary.adjustmentAbsTotal += totals.adjusted;
    }
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]!.uid;
    await yieldToRequests();
  }
  return { ...summary, digest: digest.hex() };
}

/** Both engines: one chain, extended by one run at a time. */
const CHAIN_LOCK_KEY = 727_274_004;

/**
 * Completes a run once all its chunks are done: totals and the line digest come from
 * the stored lines themselves, then the run takes the next chain position and the
 * checksum of (previous checksum, its figures, its digest) in one short transaction.
 */
export async function finalizeRun(db: Db, runId: number, now: () => Date): Promise<FinalizeOutcome> {
  const open = await db.kysely
    .selectFrom("reconciliation_chunks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("run_id", "=", runId)
    .where("status", "!=", "done")
    .executeTakeFirstOrThrow();
  if (Number(open.n) > 0) return { outcome: "others_working" };
  const run = await db.kysely.selectFrom("reconciliation_runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
  if (run.status === "completed") return { outcome: "completed" };
  const takeOver = run.status === "finalizing" && isStale(run.heartbeat_at, now());
  const claimed = await db.kysely
    .updateTable("reconciliation_runs")
    .set({ status: "finalizing", heartbeat_at: now().toISOString() })
    .where("id", "=", runId)
    .where("status", "=", takeOver ? "finalizing" : "running")
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return { outcome: "others_working" };

  const lines = await foldStoredLines(db.kysely, runId);
  await withTransaction(db, async (trx) => {
    if (db.dialect === "postgres") await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`.execute(trx);
    const previous = await trx
      .selectFrom("reconciliation_runs")
      .select(["checksum", "chain_position"])
      .where("chain_position", "is not", null)
      .orderBy("chain_position", "desc")
      .limit(1)
      .executeTakeFirst();
    const previousChecksum = previous?.checksum ?? null;
    const figures = {
      runDate: run.run_date,
      healPolicy: run.heal_policy,
      usersChecked: lines.usersChecked,
      violations: lines.violations,
      adjustmentAbsTotal: lines.adjustmentAbsTotal,
    };
    await trx
      .updateTable("reconciliation_runs")
      .set({
        status: "completed",
        finished_at: now().toISOString(),
        users_checked: lines.usersChecked,
        violations: lines.violations,
        adjustment_abs_total: lines.adjustmentAbsTotal,
        previous_checksum: previousChecksum,
        checksum: runChecksum(previousChecksum, figures, lines.digest),
        chain_position: Number(previous?.chain_position ?? 0) + 1,
      })
      .where("id", "=", runId)
      .execute();
  });
  return { outcome: "completed" };
}

import { sql, type Kysely, type Selectable } from "kysely";
import { dialectOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { ReconciliationUserReportsTable, Schema } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import { isStale } from "./openRun.js";
import { yieldToRequests } from "./yieldToRequests.js";
import { lineHash, lineTotals, LinesDigest, runChecksum, type LineAction, type ReportLine } from "./reportHashes.js";

export type FinalizeOutcome =
  | { outcome: "completed" }
  /** Chunks remain with other processes; the last of them finalizes. */
  | { outcome: "others_working" };

type StoredLine = ReportLine & { lineHash: string };
type LineRow = Selectable<ReconciliationUserReportsTable>;
type LineColumn = keyof LineRow & string;

/** Small enough that reading one page (synchronous on SQLite) never holds live requests for long. */
const PAGE_LINES = 5_000;
const ALL_COLUMNS = [
  "uid", "wallet_points", "ledger_sum", "ledger_count", "delta", "action", "adjustment_entry_id", "line_hash",
] as const satisfies readonly LineColumn[];
/** What finalize needs: the stored hash and what the totals count. */
const SUMMARY_COLUMNS = ["uid", "delta", "action", "line_hash"] as const satisfies readonly LineColumn[];

/** A stored report line as the hashes read it. */
export function toLine(row: Pick<LineRow, (typeof ALL_COLUMNS)[number]>): StoredLine {
  return {
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

/**
 * Hands `columns` of a run's lines to `onPage` in user-id order, a page at a time
 * (never the whole report in memory), letting live requests run between pages.
 * PostgreSQL reads them through one cursor: right after a run wrote its lines the
 * table's statistics still describe it empty, and a keyset page (`uid > last`) was then
 * planned as a bitmap scan plus a sort of every remaining line, once per page.
 * SQLite walks the primary key a page at a time.
 */
async function forEachLinePage<C extends LineColumn>(
  db: Kysely<Schema>,
  runId: number,
  columns: readonly C[],
  onPage: (rows: Pick<LineRow, C>[]) => void,
): Promise<void> {
  if (dialectOf(db) === "postgres") {
    // A cursor lives in a transaction: the caller's, or one of its own.
    const inTransaction = <T>(work: (trx: Kysely<Schema>) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
    await inTransaction(async (trx) => {
      await sql`DECLARE run_lines NO SCROLL CURSOR FOR
        SELECT ${sql.join(columns.map((column) => sql.ref(column)))} FROM reconciliation_user_reports
        WHERE run_id = ${runId} ORDER BY uid`.execute(trx);
      for (;;) {
        const page = await sql<Pick<LineRow, C>>`FETCH ${sql.raw(String(PAGE_LINES))} FROM run_lines`.execute(trx);
        onPage(page.rows);
        if (page.rows.length < PAGE_LINES) break;
        await yieldToRequests();
      }
      // Inside a caller's transaction the cursor would otherwise outlive this read.
      await sql`CLOSE run_lines`.execute(trx);
    });
    return;
  }
  let after: string | null = null;
  for (;;) {
    let query = db.selectFrom("reconciliation_user_reports").select([...columns, "uid"]).where("run_id", "=", runId).orderBy("uid").limit(PAGE_LINES);
    if (after !== null) query = query.where("uid", ">", after);
    const rows = (await query.execute()) as (Pick<LineRow, C> & { uid: string })[];
    onPage(rows);
    if (rows.length < PAGE_LINES) return;
    after = rows[rows.length - 1]!.uid;
    await yieldToRequests();
  }
}

export interface LinesSummary {
  usersChecked: number;
  violations: number;
  adjustmentAbsTotal: number;
  digest: string;
}

/**
 * Folds a run's lines, in user-id order, into its figures and the digest of its line
 * hashes. Finalize trusts the stored hashes (the sweep wrote them moments ago) and reads
 * four columns; verify passes `onLine`, and then every hash is recomputed from its
 * line's fields, the digest is made of the recomputed ones, and `onLine` sees both
 * (to name altered lines).
 */
export async function summarizeLines(
  db: Kysely<Schema>,
  runId: number,
  runDate: string,
  onLine?: (line: StoredLine, recomputed: string) => void,
): Promise<LinesSummary> {
  const digest = new LinesDigest();
  const summary = { usersChecked: 0, violations: 0, adjustmentAbsTotal: 0 };
  const fold = (hashHex: string, line: Pick<ReportLine, "delta" | "action">) => {
    digest.add(hashHex);
    const totals = lineTotals(line);
    summary.usersChecked += 1;
    summary.violations += totals.violation;
    summary.adjustmentAbsTotal += totals.adjusted;
  };
  if (onLine) {
    await forEachLinePage(db, runId, ALL_COLUMNS, (rows) => {
      for (const row of rows) {
        const line = toLine(row);
        const recomputed = lineHash(runDate, line);
        onLine(line, recomputed);
        fold(recomputed, line);
      }
    });
  } else {
    await forEachLinePage(db, runId, SUMMARY_COLUMNS, (rows) => {
      for (const row of rows) fold(row.line_hash, { delta: Number(row.delta), action: row.action as LineAction });
    });
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

  const lines = await summarizeLines(db.kysely, runId, run.run_date);
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

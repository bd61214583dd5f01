import { sql, type Kysely, type RawBuilder } from "kysely";
import { engineOf, type EngineAdapter } from "../storage/EngineAdapter.js";
import type { Schema } from "../storage/schema.js";
import { lineHashSql, type CanonicalField, type FieldSource } from "./lineCanonicalForm.js";
import { lineHash, type ReportLine } from "./reportHashes.js";

/**
 * How report lines are written, in one place. Lines decided in TypeScript (the heals,
 * and every line on an engine that sweeps in slices) go through `writeLines`, hashed
 * by `lineHash`; the engine's batch insert (`insertReportLines`) writes them. A sweep
 * that observes and writes in one statement embeds `settledLinesInsert`, whose hashes
 * the engine computes from the same canonical form (`lineCanonicalForm.ts`).
 */

/** What `writeLines` wrote. */
export interface WrittenLines {
  /** The hash of each line given, in the order given. */
  hashes: string[];
  /** False when a line was already stored for one of the users (and kept). */
  complete: boolean;
}

/**
 * Appends report lines for a run inside `trx`. A line already written for a user (by
 * an earlier claimer of the chunk) is kept: the first word on a user is the one the
 * report holds.
 */
export async function writeLines(trx: Kysely<Schema>, runId: number, runDate: string, lines: readonly ReportLine[]): Promise<WrittenLines> {
  if (lines.length === 0) return { hashes: [], complete: true };
  const rows = lines.map((line) => ({
    run_id: runId,
    uid: line.uid,
    wallet_points: line.walletPoints,
    ledger_sum: line.ledgerSum,
    ledger_count: line.ledgerCount,
    delta: line.delta,
    action: line.action,
    adjustment_entry_id: line.adjustmentEntryId,
    line_hash: lineHash(runDate, line),
    reason: line.reason,
    detail: line.detail,
  }));
  const written = await engineOf(trx).insertReportLines(trx, rows);
  return { hashes: rows.map((row) => row.line_hash), complete: written === rows.length };
}

/** Where a settled user's figures are, in the statement that embeds `settledLinesInsert`. */
export interface SettledColumns {
  from: string;
  uid: RawBuilder<unknown>;
  points: RawBuilder<unknown>;
  count: RawBuilder<unknown>;
  where: RawBuilder<unknown>;
}

/**
 * `INSERT … SELECT` of the `ok` line of every row of `columns.from` that `columns.where`
 * keeps: a user whose wallet equals their entries, the hash computed by the engine.
 * With `keepEarlier` a line already stored for the user is kept (`ON CONFLICT DO
 * NOTHING`); without it the caller knows none can exist, and the insert skips that
 * speculative check (10–15 ms of backend CPU per 5,000 lines, about a sixth of the
 * statement), a taken key failing the statement.
 * Null where the engine cannot hash in SQL; such engines write through `writeLines`.
 */
export function settledLinesInsert(
  engine: EngineAdapter,
  run: { runId: number; date: string },
  columns: SettledColumns,
  options: { keepEarlier: boolean },
): RawBuilder<unknown> | null {
  const sources: Record<CanonicalField, FieldSource> = {
    runDate: { known: run.date },
    uid: columns.uid,
    walletPoints: columns.points,
    ledgerSum: columns.points,
    ledgerCount: columns.count,
    delta: { known: 0 },
    action: { known: "ok" },
    adjustmentEntryId: { known: null },
    reason: { known: null },
    detail: { known: null },
  };
  const hash = lineHashSql(engine, sources);
  if (hash === null) return null;
  return sql`INSERT INTO reconciliation_user_reports
      (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
    SELECT ${run.runId}, ${columns.uid}, ${columns.points}, ${columns.points}, ${columns.count}, 0, 'ok', NULL, ${hash}
    FROM ${sql.table(columns.from)} WHERE ${columns.where}
    ${options.keepEarlier ? sql`ON CONFLICT DO NOTHING` : sql``}`;
}

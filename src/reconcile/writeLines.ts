import type BetterSqlite3 from "better-sqlite3";
import { sql, type Kysely } from "kysely";
import { dialectOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { lineHash, type ReportLine } from "./reportHashes.js";

/**
 * Appends report lines for a run, many per statement: the lines travel as one JSON
 * parameter that the engine unpacks (`json_each` / `jsonb_to_recordset`). The heals
 * write their lines here; the lines of users in balance, nearly all of a run, go
 * through `observeRange` instead. A line already written for a user (by an earlier
 * claimer of the chunk) is kept: the first word on a user is the one the report holds.
 */
export async function writeLines(db: Kysely<Schema>, runId: number, runDate: string, lines: readonly ReportLine[]): Promise<void> {
  const batch = 5000;
  for (let start = 0; start < lines.length; start += batch) {
    const rows = lines.slice(start, start + batch).map((line) => ({
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
    const json = JSON.stringify(rows);
    if (dialectOf(db) === "postgres") {
      await sql`
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)
        SELECT ${runId}, x.uid, x.wallet_points, x.ledger_sum, x.ledger_count, x.delta, x.action, x.adjustment_entry_id, x.line_hash, x.reason, x.detail
        FROM jsonb_to_recordset(${json}::jsonb) AS x(uid text, wallet_points bigint, ledger_sum bigint, ledger_count bigint,
             delta bigint, action text, adjustment_entry_id bigint, line_hash text, reason text, detail text)
        ON CONFLICT DO NOTHING`.execute(db);
    } else {
      await sql`
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)
        SELECT ${runId}, json_extract(value, '$.uid'), json_extract(value, '$.wallet_points'),
               json_extract(value, '$.ledger_sum'), json_extract(value, '$.ledger_count'), json_extract(value, '$.delta'),
               json_extract(value, '$.action'), json_extract(value, '$.adjustment_entry_id'), json_extract(value, '$.line_hash'),
               json_extract(value, '$.reason'), json_extract(value, '$.detail')
        FROM json_each(${json}) WHERE true
        ON CONFLICT DO NOTHING`.execute(db);
    }
  }
}

const LINE_COLUMNS = "(run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)";
/** Lines per bulk statement: 1,100 parameters, far below SQLite's limit of 32,766. */
const LINES_PER_STATEMENT = 100;

function insertLinesText(rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
  return `INSERT INTO reconciliation_user_reports ${LINE_COLUMNS} VALUES ${values} ON CONFLICT DO NOTHING`;
}

interface InsertStatements {
  one: BetterSqlite3.Statement;
  many: BetterSqlite3.Statement;
}
const insertStatements = new WeakMap<BetterSqlite3.Database, InsertStatements>();

function statementsFor(sqlite: BetterSqlite3.Database): InsertStatements {
  let statements = insertStatements.get(sqlite);
  if (!statements) {
    statements = { one: sqlite.prepare(insertLinesText(1)), many: sqlite.prepare(insertLinesText(LINES_PER_STATEMENT)) };
    insertStatements.set(sqlite, statements);
  }
  return statements;
}

function pushLine(parameters: unknown[], runId: number, runDate: string, line: ReportLine): void {
  parameters.push(runId, line.uid, line.walletPoints, line.ledgerSum, line.ledgerCount, line.delta, line.action, line.adjustmentEntryId, lineHash(runDate, line), line.reason, line.detail);
}

/**
 * The bulk path for a chunk's lines, inside `trx`.
 * On SQLite it runs prepared statements on the raw connection: `trx` holds that one
 * connection with BEGIN IMMEDIATE, so the rows land in the same transaction. A
 * statement inserts 100 lines, which halves the cost of one statement per line (most
 * of it was crossing from JavaScript into SQLite once per line).
 */
export async function appendLines(db: Db, trx: Trx, runId: number, runDate: string, lines: readonly ReportLine[]): Promise<void> {
  if (db.dialect !== "sqlite" || !db.sqlite) return writeLines(trx, runId, runDate, lines);
  const { one, many } = statementsFor(db.sqlite);
  let start = 0;
  for (; start + LINES_PER_STATEMENT <= lines.length; start += LINES_PER_STATEMENT) {
    const parameters: unknown[] = [];
    for (let index = start; index < start + LINES_PER_STATEMENT; index++) pushLine(parameters, runId, runDate, lines[index]!);
    many.run(parameters);
  }
  for (; start < lines.length; start++) {
    const parameters: unknown[] = [];
    pushLine(parameters, runId, runDate, lines[start]!);
    one.run(parameters);
  }
}

import type BetterSqlite3 from "better-sqlite3";
import { sql, type Kysely } from "kysely";
import { dialectOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { lineHash, type ReportLine } from "./reportHashes.js";

/**
 * Appends report lines for a run, many per statement: the lines travel as one JSON
 * parameter that the engine unpacks (`json_each` / `jsonb_to_recordset`), which
 * keeps a chunk's lines to a few statements whatever its size. A line already
 * written for a user (by the heal's own transaction, or by an earlier claimer of
 * the chunk) is kept: the first word on a user is the one the report holds.
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
    }));
    const json = JSON.stringify(rows);
    if (dialectOf(db) === "postgres") {
      await sql`
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
        SELECT ${runId}, x.uid, x.wallet_points, x.ledger_sum, x.ledger_count, x.delta, x.action, x.adjustment_entry_id, x.line_hash
        FROM jsonb_to_recordset(${json}::jsonb) AS x(uid text, wallet_points bigint, ledger_sum bigint, ledger_count bigint,
             delta bigint, action text, adjustment_entry_id bigint, line_hash text)
        ON CONFLICT DO NOTHING`.execute(db);
    } else {
      await sql`
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
        SELECT ${runId}, json_extract(value, '$.uid'), json_extract(value, '$.wallet_points'),
               json_extract(value, '$.ledger_sum'), json_extract(value, '$.ledger_count'), json_extract(value, '$.delta'),
               json_extract(value, '$.action'), json_extract(value, '$.adjustment_entry_id'), json_extract(value, '$.line_hash')
        FROM json_each(${json}) WHERE true
        ON CONFLICT DO NOTHING`.execute(db);
    }
  }
}

const INSERT_LINE = `INSERT INTO reconciliation_user_reports
  (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const insertLineStatements = new WeakMap<BetterSqlite3.Database, BetterSqlite3.Statement>();

/**
 * The bulk path for a chunk's lines, inside `trx`; returns how many were new.
 * On SQLite it runs a prepared statement on the raw connection: `trx` holds that one
 * connection with BEGIN IMMEDIATE, so the rows land in the same transaction, at a
 * fraction of the cost of building one large statement per batch.
 */
export async function appendLines(db: Db, trx: Trx, runId: number, runDate: string, lines: readonly ReportLine[]): Promise<void> {
  if (db.dialect !== "sqlite" || !db.sqlite) return writeLines(trx, runId, runDate, lines);
  let statement = insertLineStatements.get(db.sqlite);
  if (!statement) {
    statement = db.sqlite.prepare(INSERT_LINE);
    insertLineStatements.set(db.sqlite, statement);
  }
  for (const line of lines) {
    const hashHex = lineHash(runDate, line);
    statement.run(runId, line.uid, line.walletPoints, line.ledgerSum, line.ledgerCount, line.delta, line.action, line.adjustmentEntryId, hashHex);
  }
}

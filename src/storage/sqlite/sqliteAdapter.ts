import type BetterSqlite3 from "better-sqlite3";
import { sql, type Kysely, type QueryResult, type RawBuilder } from "kysely";
import type { EngineAdapter, KeyOrderedRead, ReportLineRow, ValuesColumnType } from "../EngineAdapter.js";

/** Lines per bulk statement: 1,100 parameters, far below SQLite's limit of 32,766. */
const LINES_PER_STATEMENT = 100;
const LINE_COLUMNS = "(run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)";

function insertLinesText(rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
  return `INSERT INTO reconciliation_user_reports ${LINE_COLUMNS} VALUES ${values} ON CONFLICT DO NOTHING`;
}

function pushLine(parameters: unknown[], row: ReportLineRow): void {
  parameters.push(row.run_id, row.uid, row.wallet_points, row.ledger_sum, row.ledger_count, row.delta, row.action, row.adjustment_entry_id, row.line_hash, row.reason, row.detail);
}

/**
 * SQLite embedded through better-sqlite3: one connection per process, one writer at a
 * time (every write transaction begins IMMEDIATE), queries run synchronously in this
 * process. `raw` is that connection; only this adapter touches it.
 */
export function sqliteAdapter(raw: BetterSqlite3.Database): EngineAdapter {
  let lineStatements: { one: BetterSqlite3.Statement; many: BetterSqlite3.Statement } | undefined;
  return {
    name: "sqlite",
    rowLocks: false,
    skipLocked: false,
    writableCtes: false,
    inProcess: true,
    // One connection: a second sweeper would only wait for it.
    sweepConcurrency: 1,
    jobsPoolSize: null,
    // One writer: one group commit at a time.
    commitQueue: { maxInFlight: 1, nextBatchAfterMs: 0 },

    // The transaction already holds the database's only write lock.
    lockKey: async () => undefined,
    lockNames: async () => undefined,

    /**
     * Left to itself SQLite may pick a secondary index and sort every row of a range
     * by id for each batch (a 1M-event replay slowed from 12,800/s at 200k to 5,100/s);
     * `NOT INDEXED` keeps it on the rowid walk, which still seeks the rowid.
     */
    walkPrimaryKey: (table: string) => sql`${sql.table(table)} not indexed`,
    // It plans these walks well without statistics.
    refreshStatistics: async () => undefined,

    valuesCell: (value: unknown, _type: ValuesColumnType) => sql`${value}`,
    /**
     * Prepared statements on the raw connection: `trx` holds that one connection with
     * BEGIN IMMEDIATE, so the rows land in the same transaction. A statement inserts
     * 100 lines, which halves the cost of one statement per line (most of it was
     * crossing from JavaScript into SQLite once per line).
     */
    async insertReportLines(trx: Kysely<any>, rows: readonly ReportLineRow[]): Promise<void> {
      if (!trx.isTransaction || !raw.inTransaction) throw new Error("report lines are written inside a transaction");
      lineStatements ??= { one: raw.prepare(insertLinesText(1)), many: raw.prepare(insertLinesText(LINES_PER_STATEMENT)) };
      let start = 0;
      for (; start + LINES_PER_STATEMENT <= rows.length; start += LINES_PER_STATEMENT) {
        const parameters: unknown[] = [];
        for (let index = start; index < start + LINES_PER_STATEMENT; index++) pushLine(parameters, rows[index]!);
        lineStatements.many.run(parameters);
      }
      for (; start < rows.length; start++) {
        const parameters: unknown[] = [];
        pushLine(parameters, rows[start]!);
        lineStatements.one.run(parameters);
      }
    },
    /** A page at a time along the key (`key > last`), each page one short synchronous read. */
    async readInKeyOrder<R>(db: Kysely<any>, read: KeyOrderedRead, onPage: (rows: R[]) => Promise<void>): Promise<void> {
      let after: unknown = null;
      for (;;) {
        const from: RawBuilder<unknown> = after === null ? sql`` : sql`AND ${sql.ref(read.key)} > ${after}`;
        const page: QueryResult<R & { page_key: unknown }> = await sql<R & { page_key: unknown }>`
          SELECT ${read.columns}, ${sql.ref(read.key)} AS page_key FROM ${sql.table(read.from)}
          WHERE (${read.where}) ${from} ORDER BY ${sql.ref(read.key)} LIMIT ${read.pageRows}`.execute(db);
        await onPage(page.rows);
        if (page.rows.length < read.pageRows) return;
        after = page.rows[page.rows.length - 1]!.page_key;
      }
    },

    jsonText: (value: RawBuilder<unknown>) => sql`json_quote(${value})`,
    sha256Hex: null,

    async runScript(_db: Kysely<any>, script: string): Promise<void> {
      raw.exec(script);
    },
  };
}

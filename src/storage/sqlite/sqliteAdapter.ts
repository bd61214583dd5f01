import type BetterSqlite3 from "better-sqlite3";
import { sql, type CompiledQuery, type Kysely, type QueryResult, type RawBuilder } from "kysely";
import type { EngineAdapter, InsertedEntryId, KeyOrderedRead, LedgerEntryRow, ReportLineRow, ValuesColumnType, WebhookEventRow, WebhookPurchaseRow } from "../EngineAdapter.js";
import { raisedPageCache } from "./raisedPageCache.js";
import { sweptUsersCallback } from "./sweptUsersCallback.js";
import { chunkedStatements, ONE_BY_ONE_BELOW, placeholderRows, type ChunkedStatements } from "./chunkedStatements.js";

/** Lines per bulk statement: 1,100 parameters, far below SQLite's limit of 32,766. */
const LINES_PER_STATEMENT = 100;
const LINE_COLUMNS = "(run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)";

function pushLine(parameters: unknown[], row: ReportLineRow): void {
  parameters.push(row.run_id, row.uid, row.wallet_points, row.ledger_sum, row.ledger_count, row.delta, row.action, row.adjustment_entry_id, row.line_hash, row.reason, row.detail);
}

/** Entries per bulk statement: 5,500 parameters. */
const ENTRIES_PER_STATEMENT = 500;
const ENTRY_COLUMNS = "(uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)";

function pushEntry(parameters: unknown[], row: LedgerEntryRow): void {
  parameters.push(row.uid, row.amount, row.kind, row.idempotency_key, row.reverses_entry_id, row.balance_after, row.source, row.source_ref, row.reason, row.content_hash, row.created_at);
}

/** Events per bulk statement: 6,500 parameters. */
const EVENTS_PER_STATEMENT = 500;
const EVENT_COLUMNS =
  "(provider, event_id, event_type, status, failure_reason, failure_detail, headers, livemode, waiting_for, attempts, received_at, processed_at, raw_body)";

function pushEvent(parameters: unknown[], row: WebhookEventRow): void {
  parameters.push(row.provider, row.event_id, row.event_type, row.status, row.failure_reason, row.failure_detail, row.headers, row.livemode, row.waiting_for, row.attempts, row.received_at, row.processed_at, row.raw_body);
}

/** Purchases per bulk statement: 3,000 parameters. */
const PURCHASES_PER_STATEMENT = 500;

function pushPurchase(parameters: unknown[], row: WebhookPurchaseRow): void {
  parameters.push(row.purchase_ref, row.entry_id, row.uid, row.points, row.paid_minor, row.created_at);
}

/** Bulk statements run on the raw connection only inside the transaction `trx` holds on it. */
function assertInTransaction(trx: Kysely<any>, raw: BetterSqlite3.Database, what: string): void {
  if (!trx.isTransaction || !raw.inTransaction) throw new Error(`${what} are written inside a transaction`);
}

/**
 * SQLite embedded through better-sqlite3: one connection per process, one writer at a
 * time (every write transaction begins IMMEDIATE), queries run synchronously in this
 * process. `raw` is that connection; only this adapter touches it.
 */
export function sqliteAdapter(raw: BetterSqlite3.Database): EngineAdapter {
  let lineStatements: ChunkedStatements | undefined;
  let entryStatements: ChunkedStatements | undefined;
  let oneEntry: BetterSqlite3.Statement | undefined;
  let eventStatements: ChunkedStatements | undefined;
  let purchaseStatements: ChunkedStatements | undefined;
  return {
    name: "sqlite",
    rowLocks: false,
    skipLocked: false,
    writableCtes: false,
    inProcess: true,
    // One connection: a second sweeper would only wait for it.
    sweepConcurrency: 1,
    sweepChunkUsers: 5_000,
    jobsPoolSize: null,
    // One writer: one group commit at a time.
    commitQueue: { maxInFlight: 1, nextBatchAfterMs: 0 },

    // The transaction already holds the database's only write lock.
    lockKey: async () => undefined,
    lockNames: async () => undefined,
    lockNamesStatement: () => null,
    lookupsByIndexStatement: () => null,
    // In process, a statement costs no round trip: one after the other, as they are.
    async sendInOrder(trx: Kysely<any>, statements: readonly CompiledQuery[]): Promise<QueryResult<any>[]> {
      const results: QueryResult<any>[] = [];
      for (const statement of statements) results.push(await trx.executeQuery(statement));
      return results;
    },

    /**
     * Left to itself SQLite may pick a secondary index and sort every row of a range
     * by id for each batch (a 1M-event replay slowed from 12,800/s at 200k to 5,100/s);
     * `NOT INDEXED` keeps it on the rowid walk, which still seeks the rowid.
     */
    walkPrimaryKey: (table: string) => sql`${sql.table(table)} not indexed`,
    // It plans these walks well without statistics.
    refreshStatistics: async () => undefined,
    readAlongIndexes: async () => undefined,
    sharedSnapshots: null,
    joinWithoutTrustingEstimates: async () => undefined,

    valuesCell: (value: unknown, _type: ValuesColumnType) => sql`${value}`,
    /**
     * Prepared statements on the raw connection (`chunkedStatements`): `trx` holds that
     * one connection with BEGIN IMMEDIATE, so the rows land in the same transaction.
     */
    async insertReportLines(trx: Kysely<any>, rows: readonly ReportLineRow[]): Promise<number> {
      assertInTransaction(trx, raw, "report lines");
      lineStatements ??= chunkedStatements(raw, (count) => `INSERT INTO reconciliation_user_reports ${LINE_COLUMNS} VALUES ${placeholderRows(count, 11)} ON CONFLICT DO NOTHING`, LINES_PER_STATEMENT);
      return lineStatements.write(rows, pushLine);
    },
    /** As `insertReportLines`; a taken key fails the statement, and with it the transaction's work. */
    async insertLedgerEntries(trx: Kysely<any>, rows: readonly LedgerEntryRow[]): Promise<InsertedEntryId[]> {
      assertInTransaction(trx, raw, "ledger entries");
      // A group commit's few entries: one row per run, its id the rowid the insert reports.
      // RETURNING made SQLite gather the row into a result of its own first (single-row
      // inserts of 29 entries: 30 µs a row with it, 24 without).
      if (rows.length < ONE_BY_ONE_BELOW) {
        oneEntry ??= raw.prepare(`INSERT INTO ledger_entries ${ENTRY_COLUMNS} VALUES ${placeholderRows(1, 11)}`);
        return rows.map((row) => {
          const parameters: unknown[] = [];
          pushEntry(parameters, row);
          return { id: Number(oneEntry!.run(parameters).lastInsertRowid), idempotency_key: row.idempotency_key };
        });
      }
      entryStatements ??= chunkedStatements(raw, (count) => `INSERT INTO ledger_entries ${ENTRY_COLUMNS} VALUES ${placeholderRows(count, 11)} RETURNING id, idempotency_key`, ENTRIES_PER_STATEMENT);
      return entryStatements.run<LedgerEntryRow, InsertedEntryId>(rows, pushEntry);
    },
    /**
     * As `insertReportLines`: a group commit's events, without Kysely building a statement
     * of some 400 parameters for each batch. SQLite counts only the rows it inserted.
     */
    async insertWebhookEvents(trx: Kysely<any>, rows: readonly WebhookEventRow[]): Promise<number> {
      assertInTransaction(trx, raw, "webhook events");
      eventStatements ??= chunkedStatements(
        raw,
        (count) => `INSERT INTO webhook_events ${EVENT_COLUMNS} VALUES ${placeholderRows(count, 13)} ON CONFLICT (provider, event_id) DO NOTHING`,
        EVENTS_PER_STATEMENT,
      );
      return eventStatements.write(rows, pushEvent);
    },
    /** As `insertWebhookEvents`. */
    async insertWebhookPurchases(trx: Kysely<any>, rows: readonly WebhookPurchaseRow[]): Promise<void> {
      assertInTransaction(trx, raw, "webhook purchases");
      purchaseStatements ??= chunkedStatements(
        raw,
        (count) => `INSERT INTO webhook_purchases (purchase_ref, entry_id, uid, points, paid_minor, created_at) VALUES ${placeholderRows(count, 6)} ON CONFLICT (purchase_ref) DO NOTHING`,
        PURCHASES_PER_STATEMENT,
      );
      purchaseStatements.write(rows, pushPurchase);
    },
    async insertLedgerEntriesAfter(trx: Kysely<any>, statements: readonly CompiledQuery[], rows: readonly LedgerEntryRow[]) {
      const results = await this.sendInOrder(trx, statements);
      return { results, inserted: await this.insertLedgerEntries(trx, rows) };
    },
    async insertWebhookPurchasesAndEvents(trx: Kysely<any>, purchases: readonly WebhookPurchaseRow[], events: readonly WebhookEventRow[]): Promise<number> {
      await this.insertWebhookPurchases(trx, purchases);
      return this.insertWebhookEvents(trx, events);
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
    sweptUsers: sweptUsersCallback(raw),
    concatInOrder: (value: RawBuilder<unknown>, key: RawBuilder<unknown>) => sql`group_concat(${value}, '' ORDER BY ${key})`,

    withPageCache: raisedPageCache(raw),

    async runScript(_db: Kysely<any>, script: string): Promise<void> {
      raw.exec(script);
    },
  };
}

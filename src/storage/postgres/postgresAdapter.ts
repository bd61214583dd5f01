import { sql, type CompiledQuery, type Kysely, type QueryResult, type RawBuilder } from "kysely";
import type { EngineAdapter, InsertedEntryId, KeyOrderedRead, LedgerEntryRow, ReportLineRow, ValuesColumnType, WebhookEventRow, WebhookPurchaseRow } from "../EngineAdapter.js";
import { statementChunks } from "../setBased.js";

/** Lines per statement: they travel as one JSON parameter that PostgreSQL unpacks. */
const LINES_PER_STATEMENT = 5_000;
/** Entries per statement: they travel as one array parameter per column. */
const ENTRIES_PER_STATEMENT = 5_000;

/**
 * PostgreSQL at READ COMMITTED behind a pool: rows and names are locked explicitly, and
 * work runs in server backends, so a process can keep two of them busy.
 */
/** How long a transaction that imported a snapshot waits for a lock before giving up its work. */
const IMPORTER_LOCK_TIMEOUT_MS = 100;

export const postgresAdapter: EngineAdapter = {
  name: "postgres",
  rowLocks: true,
  skipLocked: true,
  writableCtes: true,
  inProcess: false,
  // A chunk's work runs in its own backend, so two at a time use two cores.
  sweepConcurrency: 2,
  // Each chunk costs about two dozen round trips (claim, observe, heal, done) that wait for
  // the serving process's event loop, and a statement per chunk at finalize: at 1M users under
  // 500 webhooks/s, runs at 5,000 per chunk took 34-78 s, at 20,000 23-30 s (load 8.5-15.5)
  // (docs/decisions/reconciliation-performance.md, "PostgreSQL, fourth round").
  sweepChunkUsers: 20_000,
  // The nightly run gets its own two connections, so requests and the sweep never queue behind each other in one pool.
  jobsPoolSize: 2,
  // A batch costs about a dozen round trips whatever its size, so one batch at a time
  // carries the load with the lowest latency; a second starts only when the first has
  // run 15 ms (the machine is busy, or it waits for a lock), so deliveries behind it
  // are not held (docs/decisions/webhook-durability.md).
  commitQueue: { maxInFlight: 2, nextBatchAfterMs: 15 },

  async lockKey(trx: Kysely<any>, key: number): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${key})`.execute(trx);
  },
  async lockNames(trx: Kysely<any>, names: readonly string[]): Promise<void> {
    await postgresAdapter.lockNamesStatement(names)?.execute(trx);
  },
  lockNamesStatement(names: readonly string[]): RawBuilder<unknown> | null {
    if (names.length === 0) return null;
    const sorted = [...new Set(names)].sort();
    return sql`select pg_advisory_xact_lock(hashtextextended(name, 0)) from unnest(cast(${sorted} as text[])) as names(name)`;
  },
  /**
   * The pool's clients run in pg's pipeline mode (`openDatabase`): each statement handed to
   * the connection is written at once with its own Sync, and answers come back in order.
   * Kysely hands a transaction's connection to one query at a time, so the statements go
   * to the connection directly, while the transaction holds it.
   */
  async sendInOrder(trx: Kysely<any>, statements: readonly CompiledQuery[]): Promise<QueryResult<any>[]> {
    if (statements.length === 0) return [];
    return trx.getExecutor().provideConnection(async (connection) => {
      const settled = await Promise.allSettled(statements.map((statement) => connection.executeQuery(statement)));
      const failed = settled.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      return settled.map((result) => (result as PromiseFulfilledResult<QueryResult<any>>).value);
    });
  },

  // The planner walks the primary key by itself once its statistics are fresh (`refreshStatistics`).
  walkPrimaryKey: (table: string) => sql.table(table),
  async readAlongIndexes(trx: Kysely<any>): Promise<void> {
    await sql`SET LOCAL enable_bitmapscan = off`.execute(trx);
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
  },
  sharedSnapshots: {
    async exportSnapshot(trx: Kysely<any>): Promise<string> {
      return (await sql<{ snapshot: string }>`SELECT pg_export_snapshot() AS snapshot`.execute(trx)).rows[0]!.snapshot;
    },
    async importSnapshot(trx: Kysely<any>, snapshot: string): Promise<void> {
      // A utility statement takes no parameters; an exported snapshot's name is hex digits and dashes.
      if (!/^[0-9A-F]+(-[0-9A-F]+)+$/i.test(snapshot)) throw new Error(`not a snapshot name: ${snapshot}`);
      await sql.raw(`SET TRANSACTION SNAPSHOT '${snapshot}'`).execute(trx);
      // The exporter waits for the importer in Node, where PostgreSQL cannot see it: an importer
      // queued behind a lock that waits for the exporter (a migration's ALTER TABLE) would wedge
      // both for good. It gives up instead, and the exporter, holding its locks, does the rest.
      await sql`SELECT set_config('lock_timeout', ${`${IMPORTER_LOCK_TIMEOUT_MS}ms`}, true)`.execute(trx);
    },
  },
  async joinWithoutTrustingEstimates(trx: Kysely<any>): Promise<void> {
    await sql`SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)`.execute(trx);
  },
  lookupsByIndexStatement: () => sql`select set_config('enable_seqscan', 'off', true)`,
  async refreshStatistics(db: Kysely<any>, table: string): Promise<void> {
    await sql`analyze ${sql.table(table)}`.execute(db);
  },

  // An untyped parameter in a VALUES list is text to PostgreSQL: cast it to its column's type.
  valuesCell: (value: unknown, type: ValuesColumnType) => sql`cast(${value} as ${sql.raw(type)})`,
  async insertReportLines(trx: Kysely<any>, rows: readonly ReportLineRow[]): Promise<number> {
    let written = 0;
    for (let start = 0; start < rows.length; start += LINES_PER_STATEMENT) {
      const json = JSON.stringify(rows.slice(start, start + LINES_PER_STATEMENT));
      const result = await sql`
        INSERT INTO reconciliation_user_reports
          (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash, reason, detail)
        SELECT x.run_id, x.uid, x.wallet_points, x.ledger_sum, x.ledger_count, x.delta, x.action, x.adjustment_entry_id, x.line_hash, x.reason, x.detail
        FROM jsonb_to_recordset(${json}::jsonb) AS x(run_id bigint, uid text, wallet_points bigint, ledger_sum bigint, ledger_count bigint,
             delta bigint, action text, adjustment_entry_id bigint, line_hash text, reason text, detail text)
        ON CONFLICT DO NOTHING`.execute(trx);
      written += Number(result.numAffectedRows ?? 0);
    }
    return written;
  },
  /**
   * One array per column, unpacked by `unnest`: eleven parameters and one short text
   * however many rows, where a VALUES list made PostgreSQL parse and plan a statement of
   * 55,000 parameters. Arrays, not JSON, so each string reaches PostgreSQL exactly as a
   * plain parameter would (jsonb refuses some escapes a text parameter carries).
   */
  async insertLedgerEntries(trx: Kysely<any>, rows: readonly LedgerEntryRow[]): Promise<InsertedEntryId[]> {
    return (await postgresAdapter.insertLedgerEntriesAfter(trx, [], rows)).inserted;
  },
  async insertLedgerEntriesAfter(trx: Kysely<any>, statements: readonly CompiledQuery[], rows: readonly LedgerEntryRow[]) {
    const inserts: CompiledQuery[] = [];
    for (let start = 0; start < rows.length; start += ENTRIES_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ENTRIES_PER_STATEMENT);
      const column = <K extends keyof LedgerEntryRow>(name: K) => chunk.map((row) => row[name]);
      inserts.push(sql<InsertedEntryId>`
        INSERT INTO ledger_entries
          (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
        SELECT * FROM unnest(${column("uid")}::text[], ${column("amount")}::bigint[], ${column("kind")}::text[], ${column("idempotency_key")}::text[],
          ${column("reverses_entry_id")}::bigint[], ${column("balance_after")}::bigint[], ${column("source")}::text[], ${column("source_ref")}::text[],
          ${column("reason")}::text[], ${column("content_hash")}::text[], ${column("created_at")}::timestamptz[])
        RETURNING id, idempotency_key`.compile(trx));
    }
    const results = await postgresAdapter.sendInOrder(trx, [...statements, ...inserts]);
    return {
      results: results.slice(0, statements.length),
      inserted: results.slice(statements.length).flatMap((result) => result.rows as InsertedEntryId[]),
    };
  },
  /** A multi-row insert of a group commit's events, as `storeDeliveries` always sent it. */
  insertWebhookEvents(trx: Kysely<any>, rows: readonly WebhookEventRow[]): Promise<number> {
    return postgresAdapter.insertWebhookPurchasesAndEvents(trx, [], rows);
  },
  /** A multi-row insert of a group commit's purchases, as `applyCredits` always sent it. */
  async insertWebhookPurchases(trx: Kysely<any>, rows: readonly WebhookPurchaseRow[]): Promise<void> {
    await postgresAdapter.insertWebhookPurchasesAndEvents(trx, rows, []);
  },
  async insertWebhookPurchasesAndEvents(trx: Kysely<any>, purchases: readonly WebhookPurchaseRow[], events: readonly WebhookEventRow[]): Promise<number> {
    const purchaseInserts = statementChunks(purchases, 6).map((chunk) =>
      trx.insertInto("webhook_purchases").values(chunk).onConflict((conflict) => conflict.column("purchase_ref").doNothing()).compile(),
    );
    const eventInserts = statementChunks(events, 13).map((chunk) =>
      trx.insertInto("webhook_events").values(chunk).onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing()).returning("id").compile(),
    );
    const results = await postgresAdapter.sendInOrder(trx, [...purchaseInserts, ...eventInserts]);
    return results.slice(purchaseInserts.length).reduce((inserted, result) => inserted + result.rows.length, 0);
  },
  /**
   * One cursor: right after a run wrote its lines the table's statistics still describe
   * it empty, and a keyset page (`key > last`) was then planned as a bitmap scan plus a
   * sort of every remaining row, once per page. A cursor lives in a transaction: the
   * caller's, or one of its own, and is closed before the caller's goes on.
   */
  async readInKeyOrder<R>(db: Kysely<any>, read: KeyOrderedRead, onPage: (rows: R[]) => Promise<void>): Promise<void> {
    const inTransaction = <T>(work: (trx: Kysely<any>) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
    await inTransaction(async (trx) => {
      await sql`DECLARE key_ordered_rows NO SCROLL CURSOR FOR
        SELECT ${read.columns} FROM ${sql.table(read.from)} WHERE ${read.where} ORDER BY ${sql.ref(read.key)}`.execute(trx);
      for (;;) {
        const page = await sql<R>`FETCH ${sql.raw(String(read.pageRows))} FROM key_ordered_rows`.execute(trx);
        await onPage(page.rows);
        if (page.rows.length < read.pageRows) break;
      }
      await sql`CLOSE key_ordered_rows`.execute(trx);
    });
  },

  jsonText: (value: RawBuilder<unknown>) => sql`CAST(to_json(CAST(${value} AS text)) AS text)`,
  sha256Hex: (text: RawBuilder<unknown>) => sql`encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`,
  concatInOrder: (value: RawBuilder<unknown>, key: RawBuilder<unknown>) => sql`string_agg(${value}, '' ORDER BY ${key})`,

  // The server's shared buffers serve every connection; a session has no page cache to raise.
  withPageCache: <T>(_kiB: number, work: () => Promise<T>): Promise<T> => work(),

  async runScript(db: Kysely<any>, script: string): Promise<void> {
    // Without parameters pg sends the text as one simple query, which may hold several statements.
    await sql.raw(script).execute(db);
  },
};

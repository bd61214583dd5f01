import type { CompiledQuery, Insertable, Kysely, QueryResult, RawBuilder } from "kysely";
import type { Capabilities } from "./capabilities.js";
import type { LedgerEntriesTable, ReconciliationUserReportsTable, WebhookEventsTable, WebhookPurchasesTable } from "./schema.js";

/** The engines Reckon runs on. */
export type DialectName = "sqlite" | "postgres";

/** A PostgreSQL type for each column of a VALUES list; SQLite takes the values as bound. */
export type ValuesColumnType = "text" | "bigint" | "smallint" | "timestamptz";

/** A report line as stored, its hash already computed. */
export type ReportLineRow = Required<Insertable<ReconciliationUserReportsTable>>;

/**
 * An engine that runs statements in this process and can call back into it from SQL
 * (SQLite): the sweep observes a slice and writes its `ok` lines in one statement, each
 * line hashed in TypeScript by `hashOf` (src/reconcile/sweepSlice.ts).
 */
export interface SweptUsersInProcess {
  /** SQL answering the hash `hashOf` gives a settled user's `ok` line. */
  okLineHash(uid: RawBuilder<unknown>, points: RawBuilder<unknown>, count: RawBuilder<unknown>): RawBuilder<unknown>;
  /** SQL that notes `uid` as not settled (`run` answers it) and is false. */
  notSettled(uid: RawBuilder<unknown>): RawBuilder<unknown>;
  /** Runs `statement` inside `trx`: how many rows it inserted, and the users it noted as not settled, each once, in no particular order. */
  run(trx: Kysely<any>, statement: CompiledQuery, hashOf: (uid: string, points: number, count: number) => string): Promise<{ inserted: number; notSettled: string[] }>;
}

/** An entry as written: every column but the id, which the engine gives. */
export type LedgerEntryRow = Omit<Required<Insertable<LedgerEntriesTable>>, "id">;

/** A webhook event as stored by the live path, its outcome already decided: every column but the id and `imported`. */
export type WebhookEventRow = Omit<Required<Insertable<WebhookEventsTable>>, "id" | "imported">;

/** A purchase a credit landed, as recorded. */
export type WebhookPurchaseRow = Insertable<WebhookPurchasesTable>;

/** An entry just inserted: the id the engine gave it, found by its key. */
export interface InsertedEntryId {
  id: number;
  idempotency_key: string;
}

/** A read of `columns` from `from` where `where` holds, to be walked in `key` order. */
export interface KeyOrderedRead {
  columns: RawBuilder<unknown>;
  from: string;
  where: RawBuilder<unknown>;
  /** A unique column among the rows `where` keeps. */
  key: string;
  pageRows: number;
}

/**
 * Everything one engine does differently, flags and behaviour together (as Kysely's
 * `DialectAdapter`): `sqlite/sqliteAdapter.ts` and `postgres/postgresAdapter.ts` each
 * implement all of it, and nothing outside `storage/` names an engine.
 */
export interface EngineAdapter extends Capabilities {
  /** For display (health, start-up line); never to branch on. */
  readonly name: DialectName;
  /** Chunks one process sweeps at once. */
  readonly sweepConcurrency: number;
  /** Users per chunk of a run unless `RECONCILE_CHUNK_USERS` says otherwise. */
  readonly sweepChunkUsers: number;
  /** Connections of their own for the scheduled jobs, or null to share the server's. */
  readonly jobsPoolSize: number | null;
  /** How the webhook commit queue overlaps its group commits. */
  readonly commitQueue: { maxInFlight: number; nextBatchAfterMs: number };

  /** Serialises transactions that take the same `key` until the end of `trx`. */
  lockKey(trx: Kysely<any>, key: number): Promise<void>;
  /** `lockKey` for names, taken in sorted order so overlapping sets never deadlock. */
  lockNames(trx: Kysely<any>, names: readonly string[]): Promise<void>;
  /** The statement `lockNames` sends, to go with others (`sendInOrder`); null where names need no lock. */
  lockNamesStatement(names: readonly string[]): RawBuilder<unknown> | null;
  /**
   * Runs `statements` inside `trx` one after the other, each exactly as if it had been
   * sent alone once the one before it answered (under READ COMMITTED each takes its own
   * snapshot, after the locks the earlier ones took), and returns their results in order.
   * Where the database is across a wire they are all written before the first answer is
   * read: one round trip instead of one each. If one fails, the error of the first that
   * failed is thrown once all have answered (the ones after it fail too: the transaction
   * is aborted), and the caller's transaction rolls back.
   */
  sendInOrder(trx: Kysely<any>, statements: readonly CompiledQuery[]): Promise<QueryResult<any>[]>;

  /** `table` as a FROM item that walks its primary key instead of a secondary index. */
  walkPrimaryKey(table: string): RawBuilder<unknown>;
  /**
   * Within `trx`, reads along an index that gives the order a statement asks for, even
   * where stale statistics would make the planner sort instead (a table just filled).
   */
  readAlongIndexes(trx: Kysely<any>): Promise<void>;
  /**
   * Where another connection can read in the very snapshot of a repeatable-read
   * transaction: `exportSnapshot` names it (inside that transaction), `importSnapshot`
   * makes a new repeatable-read transaction see it (its first statement) and gives up,
   * failing, rather than wait for a lock more than briefly (the exporter waits for the
   * importer outside the database, so such a wait could never end). Null where not.
   */
  readonly sharedSnapshots: {
    exportSnapshot(trx: Kysely<any>): Promise<string>;
    importSnapshot(trx: Kysely<any>, snapshot: string): Promise<void>;
  } | null;
  /**
   * Within `trx`, joins are planned so that a wrong row estimate cannot make them
   * quadratic: no nested loops (a range the statistics put at one row may hold
   * thousands), and no JIT, which the cost of a disabled plan would otherwise trigger.
   */
  joinWithoutTrustingEstimates(trx: Kysely<any>): Promise<void>;
  /**
   * A statement after which, until `trx` ends, keyed reads go through their index even on a
   * table the planner has no statistics for (a young table before its first analyse), where
   * `key in (…)` would otherwise read the whole table; null where the engine needs none.
   */
  lookupsByIndexStatement(): RawBuilder<unknown> | null;
  /** Refreshes the planner's statistics of `table` where the planner needs them fresh. */
  refreshStatistics(db: Kysely<any>, table: string): Promise<void>;

  /** One cell of a `valuesTable` row, typed where the engine would otherwise guess text. */
  valuesCell(value: unknown, type: ValuesColumnType): RawBuilder<unknown>;
  /**
   * Appends report lines inside `trx`; a line already stored for its run and user is kept.
   * Returns how many of `rows` were written (the others were already stored).
   */
  insertReportLines(trx: Kysely<any>, rows: readonly ReportLineRow[]): Promise<number>;
  /**
   * Appends ledger entries inside `trx` and returns each one's id, in no particular
   * order; a taken key fails the statement. The ledger's rules are decided before
   * (`ledger/postEntries.ts`) and held again by the schema's own constraints.
   */
  insertLedgerEntries(trx: Kysely<any>, rows: readonly LedgerEntryRow[]): Promise<InsertedEntryId[]>;
  /** `statements` (`sendInOrder`), then `insertLedgerEntries`, in one round trip where there is a wire. */
  insertLedgerEntriesAfter(
    trx: Kysely<any>,
    statements: readonly CompiledQuery[],
    rows: readonly LedgerEntryRow[],
  ): Promise<{ results: QueryResult<any>[]; inserted: InsertedEntryId[] }>;
  /**
   * Appends webhook events inside `trx`, skipping any whose provider and event id are
   * stored already, and returns how many it inserted.
   */
  insertWebhookEvents(trx: Kysely<any>, rows: readonly WebhookEventRow[]): Promise<number>;
  /** Records purchases inside `trx`; a reference already recorded keeps its row. */
  insertWebhookPurchases(trx: Kysely<any>, rows: readonly WebhookPurchaseRow[]): Promise<void>;
  /** `insertWebhookPurchases` then `insertWebhookEvents`, in one round trip where there is a wire. */
  insertWebhookPurchasesAndEvents(trx: Kysely<any>, purchases: readonly WebhookPurchaseRow[], events: readonly WebhookEventRow[]): Promise<number>;
  /** Hands the rows of `read` to `onPage` in key order, `pageRows` at a time, never all in memory. */
  readInKeyOrder<R>(db: Kysely<any>, read: KeyOrderedRead, onPage: (rows: R[]) => Promise<void>): Promise<void>;

  /** Where the sweep's slices are observed and written in one statement calling back into this process; absent elsewhere. */
  readonly sweptUsers?: SweptUsersInProcess;

  /** SQL text of `value` (a text expression) as a JSON string, the bytes `JSON.stringify` gives. */
  jsonText(value: RawBuilder<unknown>): RawBuilder<unknown>;
  /** SQL for the lowercase hex SHA-256 of the UTF-8 bytes of `text`, or null where the engine has none. */
  readonly sha256Hex: ((text: RawBuilder<unknown>) => RawBuilder<unknown>) | null;
  /** SQL aggregate: the texts `value` of a group concatenated in `key` order, without a separator. */
  concatInOrder(value: RawBuilder<unknown>, key: RawBuilder<unknown>): RawBuilder<unknown>;

  /**
   * Runs `work` with this process's page cache for the database at least `kiB`, and sets it
   * back when the last such work has ended, however it ended. SQLite: the connection's own
   * cache, raised for a job that re-reads the same pages (a backfill run) while serving keeps
   * a small one (docs/decisions/sqlite-cache-sizes.md). PostgreSQL: the server's shared
   * buffers serve every connection; nothing to change.
   */
  withPageCache<T>(kiB: number, work: () => Promise<T>): Promise<T>;

  /** Runs a script of several statements (a migration's SQL) outside any transaction of Kysely's. */
  runScript(db: Kysely<any>, script: string): Promise<void>;
}

/** Each open database's adapter, by the Kysely adapter its query builders and transactions share. */
const ENGINES = new WeakMap<object, EngineAdapter>();

/** Called by `openDatabase` once per database it opens. */
export function registerEngine(db: Kysely<any>, engine: EngineAdapter): void {
  ENGINES.set(db.getExecutor().adapter, engine);
}

/** The adapter of the database behind a query builder or a transaction. */
export function engineOf(db: Kysely<any>): EngineAdapter {
  const engine = ENGINES.get(db.getExecutor().adapter);
  if (!engine) throw new Error("this query builder was not opened by openDatabase");
  return engine;
}

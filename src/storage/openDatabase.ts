import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SelectQueryNode,
  SqliteDriver,
  type DatabaseConnection,
  type QueryResult,
  type SqliteDatabase,
} from "kysely";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { registerEngine, type DialectName, type EngineAdapter } from "./EngineAdapter.js";
import { compressSessionWal } from "./postgres/compressSessionWal.js";
import { postgresAdapter } from "./postgres/postgresAdapter.js";
import { maskDatabaseUrl } from "./readDatabaseUrl.js";
import { readHostList } from "./readHostList.js";
import { hostListPool } from "./hostListPool.js";
import type { Schema } from "./schema.js";
import type { SeparateWriter, WriteTurns } from "./SeparateWriter.js";
import { sqliteAdapter } from "./sqlite/sqliteAdapter.js";
import { LogSyncLatch } from "./sqlite/LogSyncLatch.js";
import { SyncedCommits } from "./sqlite/SyncedCommits.js";
import { WalSync, walPathOf } from "./sqlite/walSync.js";

export type { DialectName } from "./EngineAdapter.js";

/** An open database: the query layer and its engine's adapter. */
export interface Db {
  kysely: Kysely<Schema>;
  /** Everything the engine does differently; the same object `engineOf(db.kysely)` returns. */
  engine: EngineAdapter;
  /** The engine's name, for display and for `storage/migrate.ts`. */
  dialect: DialectName;
  /** The URL rebuilt without its password (`maskDatabaseUrl`): the only form ever printed. */
  displayUrl: string;
  /** The raw handles, for `storage/migrate.ts` only (see docs/decisions/storage-engines.md). */
  sqlite?: BetterSqlite3.Database;
  pool?: pg.Pool;
  /**
   * Set for a file-backed SQLite database opened with `writerThread`: a thread may own
   * its writes on a connection of its own (the webhook writer); null otherwise.
   */
  separateWriter: SeparateWriter | null;
  /**
   * Set where this process fsyncs a SQLite log after the commit (a file-backed database
   * with `separateWriter`): once one such fsync failed, writes are refused until restart
   * (`LogSyncLatch`), and the health routes say so. Null elsewhere: PostgreSQL and a
   * connection committing with `synchronous = FULL` fsync inside the commit.
   */
  logSync: LogSyncLatch | null;
  /** Runs `hook` (in registration order) when the database closes, before its connections do. */
  beforeClose(hook: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Upper bound of PostgreSQL connections in this process. */
  poolSize?: number;
  /**
   * The PostgreSQL password when it is not in the URL (`DATABASE_PASSWORD_FILE`); it
   * never becomes part of a URL string, so nothing can print it with one.
   */
  password?: string;
  /**
   * Whether a file-backed SQLite database may hand its webhook writes to a writer thread
   * (`Db.separateWriter`); default true. The thread's own connection opens with false.
   */
  writerThread?: boolean;
  /**
   * SQLite only, for the webhook writer thread's connection: the caller fsyncs the log.
   * Commits do not fsync (`synchronous = NORMAL`), so nothing committed on this connection
   * may be acknowledged before an fsync of its write-ahead log (`WalSync`) that began
   * after the commit has ended; the main thread does that for the writer thread
   * (`WebhookWriterThread`). The connection a writer thread may share the file with
   * (`Db.separateWriter`) does the same for its own writes (`SyncedCommits`); every other
   * connection commits with `synchronous = FULL`.
   */
  callerFsyncsLog?: boolean;
  /**
   * SQLite, a connection with `Db.separateWriter`: what fsyncs the log after its own
   * write commits (tests hold or fail it); `WalSync.ofFile` unless given.
   */
  walSyncOf?: (walPath: string) => WalSync;
  /** SQLite's page cache for this connection, in KiB; `DEFAULT_CACHE_KIB` unless given. */
  cacheKiB?: number;
}

/**
 * A serving connection's page cache: 16 MiB (SQLite's default is 2). Each connection has its
 * own, and once filled it stays in the process's resident memory; in WAL mode it is emptied
 * whenever another connection (the webhook writer thread) has committed, so under load it
 * serves one statement, not the next. A backfill run raises it for its run
 * (`BACKFILL_CACHE_KIB`); see docs/decisions/sqlite-cache-sizes.md.
 */
export const DEFAULT_CACHE_KIB = 16_384;

/**
 * Opens `file:<path>` (SQLite, embedded) or `postgres://…` (PostgreSQL).
 * Nothing is created in a PostgreSQL server; a SQLite file's folder is created.
 */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Db {
  if (url.startsWith("file:")) return openSqlite(url.slice("file:".length), options);
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgres(url, options);
  throw new Error("DATABASE_URL must start with file: or postgres://");
}

/**
 * better-sqlite3 serialises every query of this process on one connection; a write
 * transaction still has to wait for writers in other processes (a CLI next to the
 * server), so it starts with BEGIN IMMEDIATE and never fails half-way on a lock upgrade.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  /** Whose turn it is at the write lock, when a writer thread shares this file. */
  turns: WriteTurns | null = null;
  #held: WriteTurns | null = null;
  #inTransaction = false;
  /** The fsync a committed transaction's caller waits for, awaited once the connection is released. */
  #committedSync: Promise<void> | null = null;
  readonly #database: SqliteDatabase;
  readonly #synced: SyncedCommits | null;
  readonly #readonlyByText = new Map<string, boolean>();

  /** `synced`: this connection's writes fsync the log off the event loop (`SyncedCommits`); null: they fsync in their commit. */
  constructor(database: SqliteDatabase, synced: SyncedCommits | null) {
    super({ database });
    this.#database = database;
    this.#synced = synced;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return {
      executeQuery: async (query) => {
        if (!this.#writesOutsideTransaction(query)) return connection.executeQuery(query);
        // A write outside a transaction takes its turn too (see `SeparateWriter`), and
        // answers once its fsync has ended, the connection still held (a caller of
        // `kysely.connection()` sees the result before the connection is released).
        const turns = this.turns;
        await turns?.take();
        let result: QueryResult<unknown>;
        try {
          this.#synced?.beforeWrite();
          try {
            result = await connection.executeQuery(query);
          } finally {
            this.#synced?.afterWrite();
          }
        } finally {
          turns?.give();
        }
        await this.#synced?.sync(turns?.syncLog?.() ?? null);
        return result as never;
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }

  /** Whether a statement is a write outside a transaction, which takes a turn and fsyncs as a transaction would. */
  #writesOutsideTransaction(query: CompiledQuery): boolean {
    if (this.#inTransaction || (!this.turns && !this.#synced)) return false;
    return !this.#readsOnly(query);
  }

  /**
   * Whether a statement only reads. A Kysely select does (SQLite has no writing CTEs);
   * raw SQL is asked of SQLite once per text and remembered, rather than looked up in
   * the statement cache at every run (and compiled again once evicted from it).
   */
  #readsOnly(query: CompiledQuery): boolean {
    if (SelectQueryNode.is(query.query)) return true;
    let readonly = this.#readonlyByText.get(query.sql);
    if (readonly === undefined) {
      readonly = (this.#database.prepare(query.sql) as unknown as BetterSqlite3.Statement).readonly;
      if (this.#readonlyByText.size >= STATEMENT_CACHE_SIZE) this.#readonlyByText.delete(this.#readonlyByText.keys().next().value!);
      this.#readonlyByText.set(query.sql, readonly);
    }
    return readonly;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.#inTransaction = true;
    const turns = this.turns;
    if (turns) {
      await turns.take();
      this.#held = turns;
    }
    try {
      this.#synced?.beforeWrite();
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    } catch (error) {
      this.#giveBack();
      throw error;
    }
  }
  /**
   * The turn is given back as soon as the commit returns; with `SyncedCommits`, the fsync
   * after it starts now and the transaction's promise waits for it in `releaseConnection`,
   * so neither the writer thread nor this connection's next query waits for the disk.
   */
  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    if (this.#synced) {
      const synced = this.#synced.sync(this.#held?.syncLog?.() ?? null);
      // Awaited by `releaseConnection`; this only keeps a rejection from being reported before that.
      synced.catch(() => undefined);
      this.#committedSync = synced;
    }
    this.#giveBack();
  }
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } finally {
      this.#giveBack();
    }
  }
  /**
   * Kysely resolves a transaction only after releasing its connection, so a committed
   * transaction answers here, once its fsync has ended, and a failed fsync fails it. (A
   * controlled transaction, `startTransaction`, does not await its release: not used on SQLite.)
   */
  override async releaseConnection(): Promise<void> {
    const committedSync = this.#committedSync;
    this.#committedSync = null;
    await super.releaseConnection();
    await committedSync;
  }
  #giveBack(): void {
    this.#inTransaction = false;
    this.#synced?.afterWrite();
    const held = this.#held;
    this.#held = null;
    held?.give();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;
  readonly driver: ImmediateSqliteDriver;
  constructor(database: BetterSqlite3.Database, synced: SyncedCommits | null) {
    const cached = withStatementCache(database);
    super({ database: cached });
    this.#database = cached;
    this.driver = new ImmediateSqliteDriver(this.#database, synced);
  }
  override createDriver() {
    return this.driver;
  }
}

/** Compiled statements kept at most; queries with `in (…)` lists of many lengths stay bounded. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs, and compiling SQL is most of the cost of a
 * small SQLite query; the same text (parameters are placeholders) reuses its
 * compiled statement. A statement still iterating is never handed out twice.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(text);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(text, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      database.close();
    },
  } as unknown as SqliteDatabase;
}

function openSqlite(path: string, options: OpenDatabaseOptions): Db {
  const memory = path === ":memory:";
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma("journal_mode = WAL");
  // FULL fsyncs the write-ahead log at every commit: a committed row survives a power cut.
  // With `callerFsyncsLog`, the caller runs the same fsync after the commit, before it acknowledges;
  // so does the driver for the writes of a connection with `SyncedCommits` (FULL between them).
  sqlite.pragma(options.callerFsyncsLog ? "synchronous = NORMAL" : "synchronous = FULL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma(`cache_size = -${Math.trunc(options.cacheKiB ?? DEFAULT_CACHE_KIB)}`);
  sqlite.pragma("foreign_keys = ON");
  // An in-memory database exists only on this connection: no other thread can share it.
  const shared = (options.writerThread ?? true) && !memory;
  // Where a writer thread may share the file, this connection's writes fsync the log off
  // the event loop too (SyncedCommits), as the writer thread's do.
  const logSync = shared ? new LogSyncLatch() : null;
  const synced = logSync && !options.callerFsyncsLog ? new SyncedCommits(sqlite, (options.walSyncOf ?? WalSync.ofFile)(walPathOf(path)), logSync) : null;
  const dialect = new ImmediateSqliteDialect(sqlite, synced);
  const kysely = new Kysely<Schema>({ dialect });
  const engine = sqliteAdapter(sqlite);
  registerEngine(kysely, engine);
  const separateWriter: SeparateWriter | null =
    logSync
      ? {
          url: `file:${resolve(path)}`,
          logSync,
          takeTurnsWith: (turns) => {
            dialect.driver.turns = turns;
          },
          get turns() {
            return dialect.driver.turns;
          },
        }
      : null;
  return withCloseHooks({ kysely, engine, dialect: "sqlite", displayUrl: `file:${path}`, sqlite, separateWriter, logSync }, async () => {
    await kysely.destroy();
    // Kysely closes only a connection it has used; `migrate` alone works on the raw handle.
    if (sqlite.open) sqlite.close();
    await synced?.close();
  });
}

/** A `Db` whose `close` first runs the hooks registered with `beforeClose`, then `closeConnections`. */
function withCloseHooks(db: Omit<Db, "beforeClose" | "close">, closeConnections: () => Promise<void>): Db {
  const hooks: (() => Promise<void>)[] = [];
  return {
    ...db,
    beforeClose: (hook) => {
      hooks.push(hook);
    },
    async close() {
      for (const hook of hooks.splice(0)) await hook();
      await closeConnections();
    },
  };
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_TIMESTAMPTZ = 1184;

/** Integers beyond 2^53 cannot be points: refuse them instead of rounding silently. */
function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`integer out of the safe range: ${text}`);
  return value;
}

function parseNumeric(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new Error(`expected an integer, got numeric ${text}`);
  return parseSafeInteger(text);
}

function parseTimestamp(text: string): string {
  return new Date(text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00")).toISOString();
}

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === PG_INT8) return parseSafeInteger;
    if (oid === PG_NUMERIC) return parseNumeric;
    if (oid === PG_TIMESTAMPTZ) return parseTimestamp;
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

function openPostgres(url: string, options: OpenDatabaseOptions): Db {
  // Parsed here rather than passed as connectionString: pg would let the URL's empty
  // password override one given beside it.
  const hostList = readHostList(url);
  const fromUrl = parseIntoClientConfig(hostList?.firstHostUrl ?? url);
  const poolConfig: pg.PoolConfig = {
    ...fromUrl,
    ...(options.password === undefined ? {} : { password: options.password }),
    max: options.poolSize ?? 10,
    types: pgTypes,
    connectionTimeoutMillis: 10_000,
    // Statements handed to a client together are written together (`sendInOrder`); one at a
    // time, a pipelined client behaves as any other.
    pipeline: true,
  } as pg.PoolConfig;
  const pool = hostList ? hostListPool(hostList, poolConfig) : new pg.Pool(poolConfig);
  // An idle client that loses its server must not crash the process.
  pool.on("error", () => undefined);
  // Nor one held between two statements (a primary killed mid-failover): its unit of work
  // fails on the next statement, and the pool drops the client when it is released.
  pool.on("connect", (client) => client.on("error", () => undefined));
  // Each new connection compresses its WAL's full-page images where the role may say so.
  const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool, onCreateConnection: async (connection) => void (await compressSessionWal(connection)) }) });
  registerEngine(kysely, postgresAdapter);
  return withCloseHooks({ kysely, engine: postgresAdapter, dialect: "postgres", displayUrl: maskDatabaseUrl(url), pool, separateWriter: null, logSync: null }, async () => {
    await kysely.destroy();
    // Kysely ends only a pool it has used; `migrate` alone works on the raw pool, and an
    // idle client left open kept a finished command alive until pg's idle timeout (10 s).
    if (!pool.ended) await pool.end();
  });
}

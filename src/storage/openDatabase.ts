import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDatabase,
} from "kysely";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { registerEngine, type DialectName, type EngineAdapter } from "./EngineAdapter.js";
import { postgresAdapter } from "./postgres/postgresAdapter.js";
import { maskDatabaseUrl } from "./readDatabaseUrl.js";
import type { Schema } from "./schema.js";
import { sqliteAdapter } from "./sqlite/sqliteAdapter.js";

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
}

/**
 * Opens `file:<path>` (SQLite, embedded) or `postgres://…` (PostgreSQL).
 * Nothing is created in a PostgreSQL server; a SQLite file's folder is created.
 */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Db {
  if (url.startsWith("file:")) return openSqlite(url.slice("file:".length));
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgres(url, options);
  throw new Error("DATABASE_URL must start with file: or postgres://");
}

/**
 * better-sqlite3 serialises every query of this process on one connection; a write
 * transaction still has to wait for writers in other processes (a CLI next to the
 * server), so it starts with BEGIN IMMEDIATE and never fails half-way on a lock upgrade.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;
  constructor(database: BetterSqlite3.Database) {
    const cached = withStatementCache(database);
    super({ database: cached });
    this.#database = cached;
  }
  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.#database });
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

function openSqlite(path: string): Db {
  const memory = path === ":memory:";
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma("journal_mode = WAL");
  // FULL fsyncs the write-ahead log at every commit: a committed row survives a power cut.
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 10000");
  // A 64 MiB page cache (the default is 2 MiB): a 200k-event replay ran 7% faster
  // (bench:backfill, back to back); see docs/decisions/storage-engines.md.
  sqlite.pragma("cache_size = -65536");
  sqlite.pragma("foreign_keys = ON");
  const kysely = new Kysely<Schema>({ dialect: new ImmediateSqliteDialect(sqlite) });
  const engine = sqliteAdapter(sqlite);
  registerEngine(kysely, engine);
  return {
    kysely,
    engine,
    dialect: "sqlite",
    displayUrl: `file:${path}`,
    sqlite,
    close: () => kysely.destroy(),
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
  const fromUrl = parseIntoClientConfig(url);
  const pool = new pg.Pool({
    ...fromUrl,
    ...(options.password === undefined ? {} : { password: options.password }),
    max: options.poolSize ?? 10,
    types: pgTypes,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its server must not crash the process.
  pool.on("error", () => undefined);
  const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  registerEngine(kysely, postgresAdapter);
  return { kysely, engine: postgresAdapter, dialect: "postgres", displayUrl: maskDatabaseUrl(url), pool, close: () => kysely.destroy() };
}

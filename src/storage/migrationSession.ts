import type { Db } from "./openDatabase.js";

/** What `migrate` needs from a connection inside its transaction, the same on both engines. */
export interface MigrationSession {
  /** A whole script of several statements, without parameters. */
  exec(script: string): Promise<void>;
  /** One statement with `?` placeholders: its rows. */
  rows<T>(statement: string, params?: readonly unknown[]): Promise<T[]>;
  /** One statement with `?` placeholders: how many rows it changed. */
  run(statement: string, params?: readonly unknown[]): Promise<number>;
}

/** What a unit of migration work decided: keep what it did, or leave the database untouched. */
export interface SessionResult<T> {
  commit: boolean;
  result: T;
}

/** Any constant shared by every Reckon process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_KEY = 727_274_001;

/**
 * Runs `work` in one transaction no other migrating process can enter at the same time:
 * SQLite takes the write lock first (BEGIN IMMEDIATE), PostgreSQL a transaction-scoped
 * advisory lock. It commits only when `work` asks to; a refusal or an error rolls back
 * everything, the migrations table included.
 */
export async function inMigrationTransaction<T>(db: Db, work: (session: MigrationSession) => Promise<SessionResult<T>>): Promise<T> {
  return db.dialect === "sqlite" ? inSqliteTransaction(db, work) : inPostgresTransaction(db, work);
}

async function inSqliteTransaction<T>(db: Db, work: (session: MigrationSession) => Promise<SessionResult<T>>): Promise<T> {
  const sqlite = db.sqlite!;
  const session: MigrationSession = {
    async exec(script) {
      sqlite.exec(script);
    },
    async rows<R>(statement: string, params: readonly unknown[] = []) {
      return sqlite.prepare(statement).all(...params) as R[];
    },
    async run(statement, params = []) {
      return sqlite.prepare(statement).run(...params).changes;
    },
  };
  sqlite.exec("BEGIN IMMEDIATE");
  try {
    const { commit, result } = await work(session);
    sqlite.exec(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
    throw error;
  }
}

function numbered(statement: string): string {
  let position = 0;
  return statement.replace(/\?/g, () => `$${++position}`);
}

async function inPostgresTransaction<T>(db: Db, work: (session: MigrationSession) => Promise<SessionResult<T>>): Promise<T> {
  const client = await db.pool!.connect();
  const session: MigrationSession = {
    async exec(script) {
      await client.query(script);
    },
    async rows<R>(statement: string, params: readonly unknown[] = []) {
      return (await client.query(numbered(statement), [...params])).rows as R[];
    },
    async run(statement, params = []) {
      return (await client.query(numbered(statement), [...params])).rowCount ?? 0;
    },
  };
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    const { commit, result } = await work(session);
    await client.query(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

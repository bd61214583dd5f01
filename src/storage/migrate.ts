import type { Db } from "./openDatabase.js";
import type { MigrationScript } from "./migrations/MigrationScript.js";
import { postgresMigrations } from "./migrations/postgres.js";
import { sqliteMigrations } from "./migrations/sqlite.js";

export type Environment = "test" | "prod";

export type MigrateOutcome =
  | { outcome: "migrated"; applied: number[]; environment: Environment }
  /** The database belongs to another environment; nothing was changed. */
  | { outcome: "environment_mismatch"; stamped: string; expected: Environment };

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS reckon_schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

export function migrationsFor(db: Db): readonly MigrationScript[] {
  return db.dialect === "sqlite" ? sqliteMigrations : postgresMigrations;
}

/**
 * Applies every pending migration in one transaction, stamping the database with
 * `environment` the first time. Safe to call from several processes at once: SQLite
 * takes the write lock first, PostgreSQL an advisory lock.
 */
export async function migrate(db: Db, environment: Environment, now = new Date()): Promise<MigrateOutcome> {
  return db.dialect === "sqlite" ? migrateSqlite(db, environment, now) : migratePostgres(db, environment, now);
}

function pending(applied: Set<number>, scripts: readonly MigrationScript[]): MigrationScript[] {
  return scripts.filter((script) => !applied.has(script.id));
}

async function migrateSqlite(db: Db, environment: Environment, now: Date): Promise<MigrateOutcome> {
  const sqlite = db.sqlite!;
  const run = sqlite.transaction((): MigrateOutcome => {
    sqlite.exec(MIGRATIONS_TABLE);
    const stamped = readStampSqlite(db);
    if (stamped !== undefined && stamped !== environment) {
      return { outcome: "environment_mismatch", stamped, expected: environment };
    }
    const rows = sqlite.prepare("SELECT id FROM reckon_schema_migrations").all() as { id: number }[];
    const todo = pending(new Set(rows.map((row) => row.id)), sqliteMigrations);
    const record = sqlite.prepare("INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES (?, ?, ?)");
    for (const script of todo) {
      sqlite.exec(script.sql);
      record.run(script.id, script.name, now.toISOString());
    }
    if (stamped === undefined) {
      sqlite.prepare("INSERT INTO reckon_meta (key, value) VALUES ('environment', ?)").run(environment);
    }
    return { outcome: "migrated", applied: todo.map((script) => script.id), environment };
  });
  return run.immediate();
}

function readStampSqlite(db: Db): string | undefined {
  const sqlite = db.sqlite!;
  const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reckon_meta'").get();
  if (!exists) return undefined;
  const row = sqlite.prepare("SELECT value FROM reckon_meta WHERE key = 'environment'").get() as
    | { value: string }
    | undefined;
  return row?.value;
}

/** Any constant shared by every Reckon process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_KEY = 727_274_001;

async function migratePostgres(db: Db, environment: Environment, now: Date): Promise<MigrateOutcome> {
  const client = await db.pool!.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(MIGRATIONS_TABLE);
    const metaExists = await client.query("SELECT to_regclass('reckon_meta') IS NOT NULL AS present");
    let stamped: string | undefined;
    if (metaExists.rows[0].present) {
      const stamp = await client.query("SELECT value FROM reckon_meta WHERE key = 'environment'");
      stamped = stamp.rows[0]?.value;
    }
    if (stamped !== undefined && stamped !== environment) {
      await client.query("ROLLBACK");
      return { outcome: "environment_mismatch", stamped, expected: environment };
    }
    const rows = await client.query("SELECT id FROM reckon_schema_migrations");
    const todo = pending(new Set(rows.rows.map((row: { id: number }) => row.id)), postgresMigrations);
    for (const script of todo) {
      await client.query(script.sql);
      await client.query("INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)", [
        script.id,
        script.name,
        now.toISOString(),
      ]);
    }
    if (stamped === undefined) {
      await client.query("INSERT INTO reckon_meta (key, value) VALUES ('environment', $1)", [environment]);
    }
    await client.query("COMMIT");
    return { outcome: "migrated", applied: todo.map((script) => script.id), environment };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface SchemaState {
  reachable: boolean;
  /** Every migration this build knows is applied. */
  migrated: boolean;
  environment?: string;
}

/** For readiness and start-up: is the database reachable, fully migrated, and whose is it? */
export async function readSchemaState(db: Db): Promise<SchemaState> {
  try {
    const known = migrationsFor(db).map((script) => script.id);
    const rows = await db.kysely.selectFrom("reckon_schema_migrations").select("id").execute();
    const applied = new Set(rows.map((row) => row.id));
    const stamp = await db.kysely
      .selectFrom("reckon_meta")
      .select("value")
      .where("key", "=", "environment")
      .executeTakeFirst();
    return { reachable: true, migrated: known.every((id) => applied.has(id)), environment: stamp?.value };
  } catch {
    const reachable = await db.kysely
      .selectNoFrom((eb) => eb.lit(1).as("one"))
      .execute()
      .then(
        () => true,
        () => false,
      );
    return { reachable, migrated: false };
  }
}

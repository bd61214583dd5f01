import type { Db } from "./openDatabase.js";
import type { MigrationScript } from "./migrations/MigrationScript.js";
import { carryOverLegacyIds } from "./migrations/legacyIds.js";
import { planMigrations, type AppliedMigration } from "./migrations/planMigrations.js";
import { postgresMigrations } from "./migrations/postgres.js";
import { sqliteMigrations } from "./migrations/sqlite.js";
import { inMigrationTransaction, type MigrationSession } from "./migrationSession.js";

export type Environment = "test" | "prod";

export type MigrateOutcome =
  /** `applied` ran now; `renumbered` rows of an older build's history took their current ids. */
  | { outcome: "migrated"; applied: number[]; renumbered: number; environment: Environment }
  /** The database belongs to another environment; nothing was changed. */
  | { outcome: "environment_mismatch"; stamped: string; expected: Environment }
  /** A newer Reckon migrated the database past this build; nothing was changed. */
  | { outcome: "schema_newer"; unknown: AppliedMigration[]; latestKnown: number }
  /** The database's migration history is not this build's; nothing was changed. */
  | { outcome: "schema_diverged"; id: number; databaseName: string | null; codeName: string | null };

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS reckon_schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/** This build's migrations for the database's engine, in order. */
export function migrationsFor(db: Pick<Db, "dialect">): readonly MigrationScript[] {
  return db.dialect === "sqlite" ? sqliteMigrations : postgresMigrations;
}

/**
 * Applies every pending migration in one transaction, stamping the database with
 * `environment` the first time. Refuses, changing nothing, a database of another
 * environment, one migrated past this build, or one whose history is not this build's.
 * Safe to call from several processes at once (see `inMigrationTransaction`).
 */
export async function migrate(db: Db, environment: Environment, now = new Date()): Promise<MigrateOutcome> {
  const scripts = migrationsFor(db);
  return inMigrationTransaction<MigrateOutcome>(db, async (session) => {
    await session.exec(MIGRATIONS_TABLE);
    const renumbered = await carryOverLegacyIds(session, scripts);
    const applied = await session.rows<AppliedMigration>("SELECT id, name FROM reckon_schema_migrations ORDER BY id");
    const stamped = applied.length > 0 ? await readStamp(session) : undefined;
    if (stamped !== undefined && stamped !== environment) {
      return { commit: false, result: { outcome: "environment_mismatch", stamped, expected: environment } };
    }
    const plan = planMigrations(applied, scripts);
    if (plan.plan === "newer") {
      return { commit: false, result: { outcome: "schema_newer", unknown: plan.unknown, latestKnown: plan.latestKnown } };
    }
    if (plan.plan === "diverged") {
      const { id, databaseName, codeName } = plan;
      return { commit: false, result: { outcome: "schema_diverged", id, databaseName, codeName } };
    }
    for (const script of plan.pending) {
      await session.exec(script.sql);
      await session.run("INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES (?, ?, ?)", [
        script.id,
        script.name,
        now.toISOString(),
      ]);
    }
    if (stamped === undefined) {
      await session.run("INSERT INTO reckon_meta (key, value) VALUES ('environment', ?)", [environment]);
    }
    const ids = plan.pending.map((script) => script.id);
    return { commit: true, result: { outcome: "migrated", applied: ids, renumbered, environment } };
  });
}

/** The environment stamp; `reckon_meta` exists once migration 1 ran. */
async function readStamp(session: MigrationSession): Promise<string | undefined> {
  const rows = await session.rows<{ value: string }>("SELECT value FROM reckon_meta WHERE key = 'environment'");
  return rows[0]?.value;
}

export interface SchemaState {
  reachable: boolean;
  /** The database ran exactly this build's migrations: none pending, none unknown. */
  migrated: boolean;
  environment?: string;
}

/** For readiness and start-up: is the database reachable, fully migrated, and whose is it? */
export async function readSchemaState(db: Db): Promise<SchemaState> {
  try {
    const applied = await db.kysely.selectFrom("reckon_schema_migrations").select(["id", "name"]).execute();
    const plan = planMigrations(applied, migrationsFor(db));
    const stamp = await db.kysely
      .selectFrom("reckon_meta")
      .select("value")
      .where("key", "=", "environment")
      .executeTakeFirst();
    return { reachable: true, migrated: plan.plan === "apply" && plan.pending.length === 0, environment: stamp?.value };
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

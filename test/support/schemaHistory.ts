import { sql } from "kysely";
import { runScript } from "./runScript.js";
import { migrationsFor } from "../../src/storage/migrate.js";
import type { MigrationScript } from "../../src/storage/migrations/MigrationScript.js";
import type { Db } from "../../src/storage/openDatabase.js";

/**
 * `reckon_schema_migrations` as main recorded it before the renumbering: ids 1–3 and
 * 5–10 (4 never shipped). Frozen here, apart from the code under test, so the carry-over
 * is checked against what older builds wrote rather than against itself.
 */
export const MAIN_HISTORY: readonly { id: number; name: string }[] = [
  { id: 1, name: "initial" },
  { id: 2, name: "webhook_purchases_and_reversals" },
  { id: 3, name: "reconciliation_chunks" },
  { id: 5, name: "backfill_runs" },
  { id: 6, name: "ledger_guards" },
  { id: 7, name: "reconciliation_refusals_signatures_heal_claims" },
  { id: 8, name: "raw_body_bytes" },
  { id: 9, name: "backfill_leases" },
  { id: 10, name: "won_chargebacks_recorded" },
];

const MIGRATIONS_TABLE = sql`CREATE TABLE reckon_schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

/** Runs each script and records it under the id given, then stamps the database `test`. */
async function applyAs(db: Db, scripts: readonly MigrationScript[], appliedAt: string): Promise<void> {
  await MIGRATIONS_TABLE.execute(db.kysely);
  for (const script of scripts) {
    await runScript(db, script.sql);
    await sql`INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES (${script.id}, ${script.name}, ${appliedAt})`.execute(db.kysely);
  }
  if (scripts.length > 0) await sql`INSERT INTO reckon_meta (key, value) VALUES ('environment', 'test')`.execute(db.kysely);
}

/**
 * A blank database brought to main's first `count` migrations the way main's migrate
 * left it: each script run (their SQL did not change), recorded under main's id, the
 * environment stamped.
 */
export async function migrateAsMain(db: Db, count: number, appliedAt: string): Promise<void> {
  const scripts = migrationsFor(db);
  const asMain = MAIN_HISTORY.slice(0, count).map(({ id, name }) => {
    const script = scripts.find((candidate) => candidate.name === name);
    if (!script) throw new Error(`main's migration ${name} is missing`);
    return { ...script, id };
  });
  await applyAs(db, asMain, appliedAt);
}

/**
 * A blank database brought to every migration before `id`, as this build's migrate
 * leaves it, so a test can write rows in the older shape and then watch migration `id`
 * carry them over.
 */
export async function migrateBefore(db: Db, id: number, appliedAt: string): Promise<void> {
  await applyAs(db, migrationsFor(db).filter((script) => script.id < id), appliedAt);
}

/** A fully migrated database taken one migration past this build, as a newer Reckon would. */
export async function migrateOneStepBeyond(db: Db, appliedAt: string): Promise<{ id: number; name: string }> {
  const next = { id: migrationsFor(db).length + 1, name: "from_a_newer_build" };
  await runScript(db, "CREATE TABLE from_a_newer_build (id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
  await sql`INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES (${next.id}, ${next.name}, ${appliedAt})`.execute(db.kysely);
  return next;
}

/**
 * Everything a refused start-up must leave as it was: every table with its columns and
 * row count, the migration history with its times, and the environment stamp.
 */
export async function schemaSnapshot(db: Db): Promise<unknown> {
  const tables: Record<string, { columns: string[]; rows: number }> = {};
  for (const table of await db.kysely.introspection.getTables()) {
    const count = await sql<{ count: number | string }>`SELECT count(*) AS count FROM ${sql.table(table.name)}`.execute(db.kysely);
    tables[table.name] = { columns: table.columns.map((column) => column.name).sort(), rows: Number(count.rows[0]!.count) };
  }
  const history = await db.kysely.selectFrom("reckon_schema_migrations").selectAll().orderBy("id").execute();
  const meta = await db.kysely.selectFrom("reckon_meta").selectAll().orderBy("key").execute();
  return { tables, history, meta };
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, beforeAll, afterAll } from "vitest";
import { migrate } from "../../src/storage/migrate.js";
import { openDatabase, type DialectName, type Db } from "../../src/storage/openDatabase.js";
import { TABLES } from "../../src/storage/schema.js";
import { postgresTemplate } from "./postgresTemplate.js";
import { copySqliteTemplate } from "./sqliteTemplate.js";

/**
 * Real databases for tests: SQLite in a temporary file, PostgreSQL in a fresh database
 * created for the test and dropped after it. No engine is ever mocked.
 *
 * RECKON_TEST_ENGINES=sqlite runs the SQLite half alone (a machine without PostgreSQL);
 * by default both run, and an unreachable PostgreSQL fails the suite instead of skipping.
 */
export const ENGINES: DialectName[] = (process.env.RECKON_TEST_ENGINES ?? "sqlite,postgres")
  .split(",")
  .map((name) => name.trim())
  .filter((name): name is DialectName => name === "sqlite" || name === "postgres");

export const PG_ADMIN_URL = process.env.RECKON_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Runs one statement on the PostgreSQL server as its administrator (CREATE / DROP DATABASE). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A new database on `engine`: by default migrated and stamped `test`, cloned from a
 * template migrated once (a copied file on SQLite, `CREATE DATABASE … TEMPLATE` on
 * PostgreSQL), so a test pays for a copy rather than for every migration.
 * `migrateAs: "prod"` migrates a blank database as prod; `null` leaves it blank.
 */
export async function createTestDatabase(
  engine: DialectName,
  options: { poolSize?: number; migrateAs?: "test" | "prod" | null } = {},
): Promise<TestDatabase> {
  const migrateAs = options.migrateAs === undefined ? "test" : options.migrateAs;
  const fromTemplate = migrateAs === "test";
  let url: string;
  let cleanup: () => Promise<void>;
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "reckon-test-"));
    const path = join(dir, "reckon.db");
    if (fromTemplate) await copySqliteTemplate(path);
    url = `file:${path}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `reckon_t_${process.pid}_${randomBytes(4).toString("hex")}`;
    const template = fromTemplate ? ` TEMPLATE ${await postgresTemplate(PG_ADMIN_URL)}` : "";
    await adminQuery(`CREATE DATABASE ${name}${template}`);
    url = withDatabaseName(PG_ADMIN_URL, name);
    cleanup = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  const db = openDatabase(url, { poolSize: options.poolSize ?? 10 });
  if (migrateAs === "prod") await migrate(db, "prod");
  return {
    db,
    url,
    async drop() {
      await db.close();
      await cleanup();
    },
  };
}

/**
 * Declares the same suite once per engine; the engine's name is in every test's title,
 * so the output shows both ran.
 */
export function describeEachEngine(title: string, body: (database: () => Db, engine: DialectName) => void): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(engine);
      });
      afterAll(async () => {
        await database?.drop();
      });
      body(() => {
        if (!database) throw new Error("test database not ready");
        return database.db;
      }, engine);
    });
  }
}

/** Row counts of every table: the "wrote nothing" check. */
export async function tableCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await db.kysely
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

/** Every user's wallet next to the sum of their entries; empty when the invariant holds. */
export async function invariantViolations(db: Db): Promise<{ uid: string; points: number; sum: number }[]> {
  const rows = await db.kysely
    .selectFrom("wallets as w")
    .leftJoin("ledger_entries as e", "e.uid", "w.uid")
    .select((eb) => ["w.uid", "w.points", eb.fn.coalesce(eb.fn.sum<number>("e.amount"), eb.lit(0)).as("sum")])
    .groupBy(["w.uid", "w.points"])
    .execute();
  return rows
    .map((row) => ({ uid: row.uid, points: row.points, sum: Number(row.sum) }))
    .filter((row) => row.points !== row.sum);
}

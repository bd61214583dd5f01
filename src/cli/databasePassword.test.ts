import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prodEnv } from "../../test/support/prodEnv.js";
import { runReckon } from "../../test/support/runReckon.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";

/**
 * The real `reckon migrate` against PostgreSQL with passwords spelled every way a URL
 * allows. The test server trusts local connections, so any password connects and
 * the command gets as far as printing the URL it migrated.
 */

const piece = () => randomBytes(6).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "reckon-db-password-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mount(name: string, value: string): string {
  const path = join(dir, `${name}-${piece()}`);
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

const describePostgres = ENGINES.includes("postgres") ? describe : describe.skip;

describePostgres("reckon migrate never prints the database password [postgres]", () => {
  let database: TestDatabase;
  let base: URL;
  beforeAll(async () => {
    database = await createTestDatabase("postgres", { migrateAs: null });
    base = new URL(database.url);
  });
  afterAll(async () => {
    await database.drop();
  });

  /** The URL with `password` (as written, not encoded) in the user part, and how it must print. */
  const withPassword = (written: string) => `postgres://${base.username}:${written}@${base.host}${base.pathname}`;
  const printed = () => `postgres://${base.username}:***@${base.host}${base.pathname}`;

  async function expectSilent(env: Record<string, string>, secrets: string[]) {
    const result = await runReckon(["migrate"], env);
    for (const secret of secrets) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
    return result;
  }

  it("a password with @ and : written raw in user:password@", async () => {
    const [a, b, c] = [piece(), piece(), piece()];
    const result = await expectSilent({ DATABASE_URL: withPassword(`${a}@${b}:${c}`) }, [a, b, c]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`migrated ${printed()}\n`);
  });

  it("a password with / and a literal %40, percent-encoded", async () => {
    const [a, b, c] = [piece(), piece(), piece()];
    const result = await expectSilent({ DATABASE_URL: withPassword(encodeURIComponent(`${a}/${b}%40${c}`)) }, [a, b, c]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`migrated ${printed()}\n`);
  });

  it("a password in ?password=", async () => {
    const [a, b] = [piece(), piece()];
    const url = `postgres://${base.username}@${base.host}${base.pathname}?password=${encodeURIComponent(`${a}@${b}`)}`;
    const result = await expectSilent({ DATABASE_URL: url }, [a, b]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`migrated ${printed()}\n`);
  });

  it("prod refuses ?password= in a plain DATABASE_URL and migrates nothing", async () => {
    const other = await createTestDatabase("postgres", { migrateAs: null });
    try {
      const password = piece();
      const url = `${other.url}?password=${password}`;
      const result = await expectSilent(prodEnv({}, { DATABASE_URL: url }), [password]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("DATABASE_PASSWORD_FILE=<path>");
      const tables = await sql`select tablename from pg_tables where schemaname = 'public'`.execute(other.db.kysely);
      expect(tables.rows).toEqual([]);
    } finally {
      await other.drop();
    }
  });

  it("prod refuses PGPASSWORD", async () => {
    const password = piece();
    const result = await expectSilent(prodEnv({}, { DATABASE_URL: database.url, PGPASSWORD: password }), [password]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("PGPASSWORD is set");
  });

  it("prod takes the password from DATABASE_PASSWORD_FILE and prints the URL without it", async () => {
    const prodDb = await createTestDatabase("postgres", { migrateAs: null });
    try {
      const password = `${piece()}@:/%40`;
      const env = prodEnv({}, { DATABASE_URL: prodDb.url, DATABASE_PASSWORD_FILE: mount("password", password) });
      const result = await expectSilent(env, [password]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`migrated ${prodDb.url}\n`);
    } finally {
      await prodDb.drop();
    }
  });

  it("an environment mismatch names the database without its password", async () => {
    const testDb = await createTestDatabase("postgres", { migrateAs: "test" });
    try {
      const [a, b] = [piece(), piece()];
      const stamped = new URL(testDb.url);
      const url = `postgres://${stamped.username}:${a}@${b}@${stamped.host}${stamped.pathname}`;
      const result = await expectSilent(prodEnv({}, { DATABASE_URL_FILE: mount("url", url) }), [a, b]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`postgres://${stamped.username}:***@${stamped.host}${stamped.pathname} belongs to the test environment`);
    } finally {
      await testDb.drop();
    }
  });
});

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { migrate } from "./migrate.js";
import { openDatabase } from "./openDatabase.js";

/**
 * `reckon migrate` works on the raw handle and never through Kysely, which closes only
 * what it used: its pool's idle client kept the finished command alive until pg's idle
 * timeout (10 s for every such command). Closing a database ends its connections
 * whatever used them.
 */
for (const engine of ENGINES) {
  describe(`closing a database that only migrated [${engine}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
    });
    afterAll(async () => database.drop());

    it("ends its connections, though Kysely never ran a query", async () => {
      const db = openDatabase(database.url, { writerThread: false });
      expect(await migrate(db, "test")).toMatchObject({ outcome: "migrated", applied: [] });
      await db.close();
      if (engine === "postgres") expect([db.pool!.ended, db.pool!.totalCount]).toEqual([true, 0]);
      else expect(db.sqlite!.open).toBe(false);
    });
  });
}

describe.runIf(ENGINES.includes("postgres"))("a command that never closes its database [postgres]", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });
  afterAll(async () => database.drop());

  it("still exits once its work is done: no pooled connection holds the process for good", () => {
    // The compiled build (test/support/buildOnce.ts), as `node bin/reckon.js` runs it.
    const compiled = fileURLToPath(new URL("../../dist/storage/openDatabase.js", import.meta.url));
    const script = `const { openDatabase } = await import(${JSON.stringify(compiled)});
      const db = openDatabase(process.env.URL);
      await db.kysely.selectFrom("wallets").select("uid").execute();
      console.log(db.pool.totalCount);`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, URL: database.url }, encoding: "utf8", timeout: 30_000 });
    // Killed by the timeout, it would have no status and the signal SIGTERM.
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim(), stderr: child.stderr }).toEqual({ status: 0, signal: null, stdout: "1", stderr: "" });
  });
});

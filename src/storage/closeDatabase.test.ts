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

import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { prodEnv } from "../../test/support/prodEnv.js";
import { createTestDatabase, ENGINES, tableCounts } from "../../test/support/testDatabase.js";
import { EnvironmentMismatchError, prepareDatabase } from "./prepareDatabase.js";

for (const engine of ENGINES) {
  describe(`environment stamp [${engine}]`, () => {
    it("stamps a new database at its first migration and lets the same environment in again", async () => {
      const database = await createTestDatabase(engine, { migrateAs: null });
      try {
        const config = loadConfig({ ...prodEnv(), DATABASE_URL: database.url });
        const db = await prepareDatabase(config);
        const stamp = await db.kysely.selectFrom("reckon_meta").select("value").where("key", "=", "environment").executeTakeFirst();
        expect(stamp?.value).toBe("prod");
        await db.close();
        const again = await prepareDatabase(config);
        await again.close();
      } finally {
        await database.drop();
      }
    });

    it("refuses a prod process on a test-stamped database, saying what to fix, and changes nothing", async () => {
      const database = await createTestDatabase(engine);
      try {
        const before = await tableCounts(database.db);
        const config = loadConfig({ ...prodEnv(), DATABASE_URL: database.url });
        const refusal = prepareDatabase(config);
        await expect(refusal).rejects.toBeInstanceOf(EnvironmentMismatchError);
        await expect(refusal).rejects.toThrow(/belongs to the test environment but ENVIRONMENT=prod.*Point DATABASE_URL at the prod database/);
        expect(await tableCounts(database.db)).toEqual(before);
      } finally {
        await database.drop();
      }
    });
  });
}

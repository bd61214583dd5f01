import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { MAIN_HISTORY, migrateAsMain, migrateOneStepBeyond, schemaSnapshot } from "../../test/support/schemaHistory.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { migrate, migrationsFor, readSchemaState } from "./migrate.js";

const OLD_TIME = "2026-01-01T00:00:00.000Z";
const NOW = new Date("2026-11-27T12:00:00.000Z");

for (const engine of ENGINES) {
  describe(`a database an older build migrated is carried over, never migrated twice [${engine}]`, () => {
    let database: TestDatabase | undefined;
    afterEach(async () => {
      await database?.drop();
      database = undefined;
    });

    // 3: before the gap; 4: just past it (main's id 5); 6: half way; 9: all of main's.
    for (const count of [3, 4, 6, 9]) {
      it(`main's first ${count} migrations keep their times under today's ids, and only the rest run`, async () => {
        database = await createTestDatabase(engine, { migrateAs: null });
        const db = database.db;
        await migrateAsMain(db, count, OLD_TIME);
        await sql`INSERT INTO wallets (uid, points, version, created_at, updated_at) VALUES ('kept', 0, 0, ${OLD_TIME}, ${OLD_TIME})`.execute(db.kysely);

        const result = await migrate(db, "test", NOW);

        const scripts = migrationsFor(db);
        const renumbered = MAIN_HISTORY.slice(0, count).filter((row) => row.id >= 5).length;
        expect(result).toEqual({
          outcome: "migrated",
          applied: scripts.slice(count).map((script) => script.id),
          renumbered,
          environment: "test",
        });
        const history = await db.kysely.selectFrom("reckon_schema_migrations").selectAll().orderBy("id").execute();
        expect(history).toEqual(
          scripts.map((script, index) => ({
            id: index + 1,
            name: MAIN_HISTORY[index]?.name ?? script.name,
            applied_at: index < count ? OLD_TIME : NOW.toISOString(),
          })),
        );
        expect(await db.kysely.selectFrom("wallets").select("uid").execute()).toEqual([{ uid: "kept" }]);
        expect(await readSchemaState(db)).toEqual({ reachable: true, migrated: true, environment: "test" });
        expect(await migrate(db, "test", NOW)).toEqual({ outcome: "migrated", applied: [], renumbered: 0, environment: "test" });
      });
    }
  });

  describe(`migrate refuses a schema this build does not know, changing nothing [${engine}]`, () => {
    let database: TestDatabase | undefined;
    afterEach(async () => {
      await database?.drop();
      database = undefined;
    });

    it("a database one migration past this build is schema_newer, naming the migration", async () => {
      database = await createTestDatabase(engine);
      const next = await migrateOneStepBeyond(database.db, OLD_TIME);
      const before = await schemaSnapshot(database.db);
      expect(await migrate(database.db, "test", NOW)).toEqual({
        outcome: "schema_newer",
        unknown: [next],
        latestKnown: migrationsFor(database.db).length,
      });
      expect(await schemaSnapshot(database.db)).toEqual(before);
      expect(await readSchemaState(database.db)).toMatchObject({ migrated: false });
    });

    it("a history that names a migration differently is schema_diverged, and nothing pending runs", async () => {
      database = await createTestDatabase(engine, { migrateAs: null });
      const db = database.db;
      await migrateAsMain(db, 3, OLD_TIME);
      await sql`UPDATE reckon_schema_migrations SET name = 'chunks_from_a_fork' WHERE id = 3`.execute(db.kysely);
      const before = await schemaSnapshot(db);
      expect(await migrate(db, "test", NOW)).toEqual({
        outcome: "schema_diverged",
        id: 3,
        databaseName: "chunks_from_a_fork",
        codeName: "reconciliation_chunks",
      });
      expect(await schemaSnapshot(db)).toEqual(before);
    });
  });
}

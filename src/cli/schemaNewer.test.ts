import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReckon } from "../../test/support/runReckon.js";
import { migrateOneStepBeyond, schemaSnapshot } from "../../test/support/schemaHistory.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";

/** Long enough for a loaded machine to start tsx and refuse; a server that listens instead is killed. */
const COMMAND_TIMEOUT_MS = 50_000;

/** Commands that open the database, each given what it needs to get that far. */
const COMMANDS: { title: string; args: string[] }[] = [
  { title: "reckon serve", args: ["serve"] },
  { title: "reckon reconcile", args: ["reconcile", "--date", "2026-11-01"] },
  { title: "reckon backfill replay", args: ["backfill", "replay", "--from", "2026-11-01", "--to", "2026-11-02"] },
];

for (const engine of ENGINES) {
  describe(`a rolled-back build refuses a database a newer Reckon migrated [${engine}]`, () => {
    let database: TestDatabase;
    let next: { id: number; name: string };
    let before: unknown;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      next = await migrateOneStepBeyond(database.db, "2026-11-27T00:00:00.000Z");
      before = await schemaSnapshot(database.db);
    });
    afterAll(() => database.drop());

    for (const command of COMMANDS) {
      it(`${command.title} exits non-zero, names the newer migration, and writes nothing`, async () => {
        const result = await runReckon(command.args, { DATABASE_URL: database.url, PORT: "0" }, { timeoutMs: COMMAND_TIMEOUT_MS });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`schema_newer: ${database.db.displayUrl} was migrated by a newer Reckon (migrations ${next.id} ${next.name})`);
        expect(result.stderr).toContain(`this build knows migrations up to ${next.id - 1}`);
        expect(result.stdout).not.toMatch(/listening/);
        expect(await schemaSnapshot(database.db)).toEqual(before);
      });
    }
  });
}

import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../http/buildApp.js";
import { loadConfig } from "../config.js";
import { createApiToken } from "../auth/apiTokens.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { exportFolder, firestoreLines, reckonLines, type LegacyUser } from "../../test/support/legacyExport.js";
import { runReckon } from "../../test/support/runReckon.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const at = "2025-01-01T00:00:00Z";
const alice: LegacyUser = { uid: "alice", points: 70, entries: [{ id: "a1", amount: 70, at }] };
const bob: LegacyUser = { uid: "bob", points: 55, entries: [{ id: "b1", amount: 50, at }] };
const zed: LegacyUser = { uid: "zed", points: 7, entries: [{ id: "z1", amount: 7, at }] };

for (const engine of ENGINES) {
  describe(`reckon import wallets, shadow compare, admin freeze [${engine}]`, () => {
    const files = exportFolder();
    let database: TestDatabase;
    const reckon = (args: string[]) => runReckon(args, { ENVIRONMENT: "test", DATABASE_URL: database.url, LOG_LEVEL: "warn" });
    beforeAll(async () => {
      database = await createTestDatabase(engine);
    });
    afterAll(async () => {
      await database.drop();
      files.remove();
    });

    it("import wallets prints its summary, reports drift, exits 0; a dry run writes nothing", async () => {
      const file = files.write("reckon.jsonl", reckonLines([alice, bob, zed]));
      const before = await tableHashes(database.db);
      const dry = await reckon(["import", "wallets", "--file", file, "--dry-run", "--human"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain("dry run (nothing written): would import 3 users: 3 entries posted");
      expect(await tableHashes(database.db)).toEqual(before);
      const real = await reckon(["import", "wallets", "--file", file, "--json", "--by", "alice-ops"]);
      expect(real.code).toBe(0);
      expect(JSON.parse(real.stdout)).toMatchObject({ outcome: "imported", users: 3, entriesPosted: 3, drift: [{ uid: "bob", line: 3, drift: 5 }], problems: [] });
      const audit = await database.db.kysely.selectFrom("audit_log").select(["actor", "action", "subject"]).where("action", "=", "import.balance").execute();
      expect(audit).toEqual([{ actor: "cli:alice-ops", action: "import.balance", subject: "bob" }]);
    }, 60_000);

    it("a Firestore-shaped export with a bad line imports the rest and exits 1 naming the line", async () => {
      const carol: LegacyUser = { uid: "carol", points: 12, entries: [{ id: "c1", amount: 12, at }] };
      const lines = [...firestoreLines([carol]), '{"name":"projects/p/databases/(default)/documents/wallets/dora","fields":{"points":{"doubleValue":1.5}}}'];
      const result = await reckon(["import", "wallets", "--format", "firestore", "--file", files.write("fs.jsonl", lines), "--json"]);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ users: 1, usersSkipped: 1, problems: [{ line: 3, uid: "dora", code: "invalid_points" }] });
    }, 60_000);

    it("shadow compare lists wallets missing on either side and different points, exits 1, then 0 once they agree", async () => {
      // Reckon: alice 70, bob 55, carol 12, zed 7. The legacy system: alice 70, bob 60, carol 12, erin 9, fay 0.
      const legacy = [alice, { ...bob, points: 60 }, { uid: "carol", points: 12, entries: [] }, { uid: "erin", points: 9, entries: [] }, { uid: "fay", points: 0, entries: [] }];
      const differ = await reckon(["shadow", "compare", "--file", files.write("legacy.jsonl", reckonLines(legacy)), "--json"]);
      expect(differ.code).toBe(1);
      expect(JSON.parse(differ.stdout)).toEqual({
        outcome: "differ",
        legacyWallets: 5,
        reckonWallets: 4,
        differences: [
          { uid: "bob", difference: "different_points", legacyPoints: 60, reckonPoints: 55 },
          { uid: "erin", difference: "missing_in_reckon", legacyPoints: 9, reckonPoints: null },
          { uid: "zed", difference: "missing_in_legacy", legacyPoints: null, reckonPoints: 7 },
        ],
        problems: [],
      });
      const human = await reckon(["shadow", "compare", "--file", files.write("legacy.jsonl", reckonLines(legacy)), "--human"]);
      expect([human.code, human.stdout.split("\n")[0]]).toEqual([1, "differ: 5 legacy wallets, 4 Reckon wallets, 3 differences, 0 unreadable lines"]);

      // The legacy system's later export brings bob's missing entry and erin; zed reaches the legacy side.
      const later = [alice, { ...bob, points: 60, entries: [...bob.entries, { id: "b2", amount: 5, at }] }, { uid: "erin", points: 9, entries: [{ id: "e1", amount: 9, at }] }];
      expect((await reckon(["import", "wallets", "--file", files.write("later.jsonl", reckonLines(later))])).code).toBe(0);
      const agreed = await reckon(["shadow", "compare", "--file", files.write("legacy2.jsonl", reckonLines([...legacy, zed])), "--human"]);
      expect([agreed.code, agreed.stdout.trim()]).toEqual([0, "agree: 6 legacy wallets, 5 Reckon wallets, 0 differences, 0 unreadable lines"]);
    }, 90_000);

    describe("admin freeze and unfreeze, across two instances on one database", () => {
      let otherDb: Db;
      let instanceA: FastifyInstance;
      let instanceB: FastifyInstance;
      let token: string;
      beforeAll(async () => {
        otherDb = openDatabase(database.url, { poolSize: 2 });
        const config = loadConfig({ ENVIRONMENT: "test" });
        instanceA = await buildApp({ db: database.db, config, now: () => NOW });
        instanceB = await buildApp({ db: otherDb, config, now: () => NOW });
        token = (await createApiToken(database.db.kysely, { role: "admin", name: "freeze-admin", now: NOW })).token;
      });
      afterAll(async () => {
        await instanceA.close();
        await instanceB.close();
        await otherDb.close();
      });
      const adjust = (app: FastifyInstance, key: string) =>
        app.inject({
          method: "POST",
          url: "/api/admin/wallets/alice/adjustments",
          headers: { authorization: `Bearer ${token}`, "idempotency-key": key },
          payload: { amount: 5, reason: "goodwill" },
        });

      it("every instance refuses manual adjustments with 423 while frozen, and takes them again once unfrozen", async () => {
        const freeze = await reckon(["admin", "freeze", "--by", "ops"]);
        expect([freeze.code, JSON.parse(freeze.stdout)]).toEqual([0, { outcome: "changed", name: "adjustments_frozen", previous: false, value: true }]);
        for (const [index, app] of [instanceA, instanceB].entries()) {
          const refused = await adjust(app, `frozen-${index}`);
          expect([refused.statusCode, refused.json().error.code]).toEqual([423, "adjustments_frozen"]);
        }
        const again = await reckon(["admin", "freeze"]);
        expect(JSON.parse(again.stdout)).toEqual({ outcome: "unchanged", name: "adjustments_frozen", value: true });
        const unfreeze = await reckon(["admin", "unfreeze", "--by", "ops"]);
        expect(JSON.parse(unfreeze.stdout)).toMatchObject({ outcome: "changed", value: false });
        expect((await adjust(instanceB, "thawed-b")).statusCode).toBe(201);
        expect((await adjust(instanceA, "frozen-0")).statusCode).toBe(201);
        const audit = await database.db.kysely.selectFrom("audit_log").select(["actor", "details"]).where("action", "=", "flag.set").orderBy("id").execute();
        expect(audit).toEqual([
          { actor: "cli:ops", details: JSON.stringify({ from: false, to: true }) },
          { actor: "cli:ops", details: JSON.stringify({ from: true, to: false }) },
        ]);
      }, 60_000);
    });
  });
}

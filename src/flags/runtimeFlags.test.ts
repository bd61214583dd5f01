import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../auth/apiTokens.js";
import { loadConfig } from "../config.js";
import { buildApp } from "../http/buildApp.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { createTestDatabase, ENGINES, tableCounts, type TestDatabase } from "../../test/support/testDatabase.js";
import { readFlag } from "./runtimeFlags.js";
import { reckonArgs } from "../../test/support/reckonCommand.js";

const run = promisify(execFile);
const NOW = new Date("2026-03-01T12:00:00.000Z");

for (const engine of ENGINES) {
  describe(`runtime flags [${engine}]`, () => {
    let database: TestDatabase;
    let otherDb: Db;
    let instanceA: FastifyInstance;
    let instanceB: FastifyInstance;
    let admin: string;

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      // Two instances, each with its own connection, like two processes behind a load balancer.
      otherDb = openDatabase(database.url, { poolSize: 2 });
      const config = loadConfig({ ENVIRONMENT: "test" });
      instanceA = await buildApp({ db: database.db, config, now: () => NOW });
      instanceB = await buildApp({ db: otherDb, config, now: () => NOW });
      admin = (await createApiToken(database.db.kysely, { role: "admin", name: "flags-admin", now: NOW })).token;
    });
    afterAll(async () => {
      await instanceA.close();
      await instanceB.close();
      await otherDb.close();
      await database.drop();
    });

    const setVia = (app: FastifyInstance, name: string, payload: unknown) =>
      app.inject({ method: "POST", url: `/api/admin/flags/${name}`, headers: { authorization: `Bearer ${admin}` }, payload: payload as object });
    const adjustVia = (app: FastifyInstance, key: string) =>
      app.inject({
        method: "POST",
        url: "/api/admin/wallets/flag_user/adjustments",
        headers: { authorization: `Bearer ${admin}`, "idempotency-key": key },
        payload: { amount: 10, reason: "goodwill" },
      });

    it("a freeze set through one instance is honoured by another on its next request", async () => {
      expect((await adjustVia(instanceB, "before-freeze")).statusCode).toBe(201);
      const set = await setVia(instanceA, "adjustments_frozen", { value: true });
      expect(set.statusCode).toBe(200);
      expect(set.json()).toEqual({ outcome: "changed", name: "adjustments_frozen", previous: false, value: true });
      const refused = await adjustVia(instanceB, "during-freeze");
      expect(refused.statusCode).toBe(423);
      expect(refused.json().error.code).toBe("adjustments_frozen");
      await setVia(instanceB, "adjustments_frozen", { value: false });
      expect((await adjustVia(instanceA, "after-thaw")).statusCode).toBe(201);
    });

    it("every change is audited with who, when, from and to", async () => {
      const rows = await database.db.kysely
        .selectFrom("audit_log")
        .selectAll()
        .where("action", "=", "flag.set")
        .orderBy("id")
        .execute();
      expect(rows.map((row) => ({ actor: row.actor, at: row.at, subject: row.subject, details: JSON.parse(row.details) }))).toEqual([
        { actor: "token:flags-admin", at: NOW.toISOString(), subject: "adjustments_frozen", details: { from: false, to: true } },
        { actor: "token:flags-admin", at: NOW.toISOString(), subject: "adjustments_frozen", details: { from: true, to: false } },
      ]);
    });

    it("setting a flag to the value it has writes and audits nothing", async () => {
      const before = await tableCounts(database.db);
      const response = await setVia(instanceA, "adjustments_frozen", { value: false });
      expect(response.json()).toEqual({ outcome: "unchanged", name: "adjustments_frozen", value: false });
      expect(await tableCounts(database.db)).toEqual(before);
    });

    it("an unknown flag or a bad value is refused and changes nothing", async () => {
      const before = await tableCounts(database.db);
      const unknown = await setVia(instanceA, "no_such_flag", { value: true });
      expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "unknown_flag"]);
      const notBoolean = await setVia(instanceA, "adjustments_frozen", { value: "yes" });
      expect([notBoolean.statusCode, notBoolean.json().error.code]).toEqual([400, "invalid_body"]);
      const extra = await setVia(instanceA, "adjustments_frozen", { value: true, why: "x" });
      expect([extra.statusCode, extra.json().error.code]).toEqual([400, "unknown_field"]);
      expect(await tableCounts(database.db)).toEqual(before);
    });

    it("GET /api/admin/flags lists every flag with who set it", async () => {
      const response = await instanceA.inject({ method: "GET", url: "/api/admin/flags", headers: { authorization: `Bearer ${admin}` } });
      expect(response.json()).toEqual({
        flags: [{ name: "adjustments_frozen", value: false, updatedAt: NOW.toISOString(), updatedBy: "token:flags-admin" }],
      });
    });

    it("`reckon admin flags set` changes the flag for running instances and audits the CLI user", async () => {
      const env = { ...process.env, ENVIRONMENT: "test", DATABASE_URL: database.url };
      const { stdout } = await run(process.execPath, reckonArgs(["admin", "flags", "set", "adjustments_frozen", "on", "--by", "alice"]), { env });
      expect(JSON.parse(stdout)).toMatchObject({ outcome: "changed", value: true });
      expect(await readFlag(otherDb.kysely, "adjustments_frozen")).toBe(true);
      expect((await adjustVia(instanceB, "cli-freeze")).statusCode).toBe(423);
      const last = await database.db.kysely.selectFrom("audit_log").selectAll().orderBy("id", "desc").executeTakeFirstOrThrow();
      expect([last.actor, last.action]).toEqual(["cli:alice", "flag.set"]);
    });
  });
}

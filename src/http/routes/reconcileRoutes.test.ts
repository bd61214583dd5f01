import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachEngine, tableCounts } from "../../../test/support/testDatabase.js";
import { createApiToken } from "../../auth/apiTokens.js";
import { loadConfig } from "../../config.js";
import { postEntry } from "../../ledger/postEntry.js";
import { withTransaction } from "../../storage/withTransaction.js";
import { buildApp } from "../buildApp.js";
import { startLocalOidcIssuer, validClaims, type LocalOidcIssuer } from "../../../test/support/localOidcIssuer.js";
import { JOB_AUDIENCE, JOB_SUBJECT, securityEnv } from "../../../test/support/securityApp.js";

const NOW = new Date("2026-03-10T12:00:00.000Z");

describeEachEngine("POST /api/jobs/reconcile and the report routes", (db) => {
  let app: FastifyInstance;
  let disabled: FastifyInstance;
  let admin = "";
  let service = "";
  let job = "";
  let issuer: LocalOidcIssuer;
  const post = (target: FastifyInstance, payload?: unknown, token = job) =>
    target.inject({
      method: "POST",
      url: "/api/jobs/reconcile",
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { "content-type": "application/json" }) },
      ...(payload === undefined ? {} : { payload: typeof payload === "string" ? payload : JSON.stringify(payload) }),
    });
  const get = (url: string) => app.inject({ method: "GET", url, headers: { authorization: `Bearer ${admin}` } });

  beforeAll(async () => {
    // The job route is the scheduler's: it takes an OIDC token of the job role.
    issuer = await startLocalOidcIssuer();
    job = await issuer.sign({ ...validClaims(issuer.issuer, JOB_AUDIENCE, NOW), sub: JOB_SUBJECT });
    app = await buildApp({ db: db(), config: loadConfig({ ...securityEnv(issuer), RECONCILE_CHUNK_USERS: "2" }), now: () => NOW });
    disabled = await buildApp({ db: db(), config: loadConfig({ ...securityEnv(issuer), RECONCILIATION_ENABLED: "0" }), now: () => NOW });
    admin = (await createApiToken(db().kysely, { role: "admin", name: "a", now: NOW })).token;
    service = (await createApiToken(db().kysely, { role: "service", name: "s", now: NOW })).token;
    for (const uid of ["u1", "u2", "u3"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 10, idempotencyKey: `p-${uid}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points - 4 WHERE uid = 'u2'`.execute(db().kysely);
  });
  afterAll(async () => {
    await app.close();
    await disabled.close();
    await issuer.close();
  });

  it.each([
    ["a malformed date", { date: "2026-3-1" }],
    ["an impossible date", { date: "2026-02-30" }],
    ["a date in the future", { date: "2026-03-11" }],
    ["a date that is not a string", { date: 20260301 }],
    ["an unknown field", { date: "2026-03-01", force: true }],
    ["a body that is not an object", [1]],
    ["broken JSON", "{"],
  ])("refuses %s with 400 and starts nothing", async (_name, payload) => {
    const before = await tableCounts(db());
    const response = await post(app, payload);
    expect(response.statusCode).toBe(400);
    expect(["invalid_date", "invalid_body", "unknown_field", "invalid_json"]).toContain(response.json().error.code);
    expect(await tableCounts(db())).toEqual(before);
  });

  it("answers 503 feature_disabled when reconciliation is off, and starts nothing", async () => {
    const before = await tableCounts(db());
    const response = await post(disabled, { date: "2026-03-01" });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe("feature_disabled");
    expect(await tableCounts(db())).toEqual(before);
  });

  it("is for admins only", async () => {
    expect((await post(app, {}, service)).statusCode).toBe(403);
  });

  it("runs today's reconciliation without a body and returns the run summary", async () => {
    const response = await post(app);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ date: "2026-03-10", status: "completed", usersChecked: 3, violations: 1, adjustmentAbsTotal: 4 });
    expect(response.json().checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("serves the run summary and one user's line", async () => {
    const run = await get("/api/reconciliation/reports/2026-03-10");
    expect(run.statusCode).toBe(200);
    expect(run.json().violations).toBe(1);
    const line = await get("/api/reconciliation/reports/2026-03-10/users/u2");
    expect(line.json()).toMatchObject({ uid: "u2", walletPoints: 6, ledgerSum: 10, ledgerCount: 1, delta: -4, action: "adjusted" });
    expect((await get("/api/reconciliation/reports/2026-03-09")).json().error.code).toBe("report_not_found");
    expect((await get("/api/reconciliation/reports/2026-13-01")).statusCode).toBe(400);
    expect((await get("/api/reconciliation/reports/2026-03-10/users/nobody")).statusCode).toBe(404);
  });

  it("answers 409 while a run for the date is in progress, and starts nothing", async () => {
    await db()
      .kysely.insertInto("reconciliation_runs")
      .values({ run_date: "2026-03-02", status: "running", heal_policy: "adjust_ledger", started_at: NOW.toISOString(), heartbeat_at: NOW.toISOString() })
      .execute();
    const before = await tableCounts(db());
    const response = await post(app, { date: "2026-03-02" });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe("reconciliation_in_progress");
    expect(await tableCounts(db())).toEqual(before);
  });
});

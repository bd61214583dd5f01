import { expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { buildApp } from "../http/buildApp.js";
import { withTransaction } from "../storage/withTransaction.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { authenticateToken, createApiToken, hashToken, revokeApiToken } from "./apiTokens.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

describeEachEngine("API tokens", (db) => {
  it("are stored only as a hash, never in clear", async () => {
    const { token, id } = await createApiToken(db().kysely, { role: "service", name: "stored", now: NOW });
    const row = await db().kysely.selectFrom("api_tokens").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("a revoked token gets 401 on its next request, and the revocation is audited", async () => {
    const app = await buildApp({ db: db(), config: loadConfig({ ENVIRONMENT: "test" }), now: () => NOW });
    const { token, id } = await createApiToken(db().kysely, { role: "service", name: "to-revoke", now: NOW });
    const read = () => app.inject({ method: "GET", url: "/api/wallets/nobody", headers: { authorization: `Bearer ${token}` } });
    expect((await read()).statusCode).toBe(404);
    const outcome = await withTransaction(db(), (trx) => revokeApiToken(trx, { id, actor: "cli:alice", now: NOW }));
    expect(outcome).toEqual({ outcome: "revoked", name: "to-revoke" });
    expect((await read()).json().error.code).toBe("unauthenticated");
    expect(await authenticateToken(db().kysely, token)).toBeNull();
    const audit = await db().kysely.selectFrom("audit_log").selectAll().where("action", "=", "token.revoke").executeTakeFirstOrThrow();
    expect([audit.actor, audit.subject, JSON.parse(audit.details)]).toEqual(["cli:alice", `api_token:${id}`, { name: "to-revoke", role: "service" }]);
    await app.close();
  });

  it("revoking twice or an unknown id changes nothing", async () => {
    const { id } = await createApiToken(db().kysely, { role: "admin", name: "twice", now: NOW });
    await withTransaction(db(), (trx) => revokeApiToken(trx, { id, actor: "cli:alice", now: NOW }));
    expect(await withTransaction(db(), (trx) => revokeApiToken(trx, { id, actor: "cli:alice", now: NOW }))).toEqual({ outcome: "already_revoked" });
    expect(await withTransaction(db(), (trx) => revokeApiToken(trx, { id: 999_999, actor: "cli:alice", now: NOW }))).toEqual({ outcome: "not_found" });
  });
});

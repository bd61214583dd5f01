import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postForm } from "../../test/support/adminClient.js";
import { startLocalOidcIssuer, validClaims, type LocalOidcIssuer } from "../../test/support/localOidcIssuer.js";
import { ADMIN_SUBJECT, buildSecurityApp, JOB_AUDIENCE, JOB_SUBJECT } from "../../test/support/securityApp.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";

const NOW = new Date("2026-03-10T12:00:00.000Z");

describeEachEngine("the /admin page with OIDC admins", (db) => {
  let issuer: LocalOidcIssuer;
  let app: FastifyInstance;

  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
    app = await buildSecurityApp(db(), issuer, { now: () => NOW, probe: false });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  const token = (subject: string) => issuer.sign(validClaims(issuer.issuer, JOB_AUDIENCE, NOW, { sub: subject }));

  it("an OIDC ID token of the admin role logs in, and the page names the admin as audited", async () => {
    const login = await postForm(app, "/admin/login", { token: await token(ADMIN_SUBJECT) });
    expect([login.statusCode, login.headers.location]).toEqual([303, "/admin"]);
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    const page = await app.inject({ method: "GET", url: "/admin", headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<span class="who">oidc:${ADMIN_SUBJECT}</span>`);
  });

  it("a job caller's ID token is not an admin and gets no session; a token signed by another key is refused", async () => {
    const job = await postForm(app, "/admin/login", { token: await token(JOB_SUBJECT) }, { json: true });
    expect([job.statusCode, job.json().error.code, job.headers["set-cookie"]]).toEqual([403, "forbidden", undefined]);
    const stray = await issuer.sign(validClaims(issuer.issuer, JOB_AUDIENCE, NOW, { sub: ADMIN_SUBJECT }), { key: await issuer.strayKey() });
    const forged = await postForm(app, "/admin/login", { token: stray }, { json: true });
    expect([forged.statusCode, forged.headers["set-cookie"]]).toEqual([401, undefined]);
  });
});

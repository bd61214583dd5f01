import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hs256WithPublicKey,
  startLocalOidcIssuer,
  tamperPayload,
  unsignedToken,
  validClaims,
  type LocalOidcIssuer,
} from "../../../test/support/localOidcIssuer.js";
import { buildSecurityApp, JOB_AUDIENCE, JOB_EMAIL, JOB_SUBJECT } from "../../../test/support/securityApp.js";
import { describeEachEngine, tableCounts } from "../../../test/support/testDatabase.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const SECONDS = Math.floor(NOW.getTime() / 1000);

describeEachEngine("job callers authenticate with OIDC tokens", (db) => {
  let issuer: LocalOidcIssuer;
  let app: FastifyInstance;

  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
    app = await buildSecurityApp(db(), issuer, { now: () => NOW });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  const call = (token: string) =>
    app.inject({ method: "POST", url: "/test-only/job-probe", headers: { authorization: `Bearer ${token}` } });
  const claims = (extra = {}) => validClaims(issuer.issuer, JOB_AUDIENCE, NOW, { sub: JOB_SUBJECT, ...extra });

  it("a valid scheduler token passes and acts as the job role", async () => {
    const response = await call(await issuer.sign(claims()));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ actor: `oidc:${JOB_SUBJECT}`, role: "job" });
  });

  it("a Google-style token with a verified listed email passes", async () => {
    const token = await issuer.sign(claims({ sub: "1098765432109876", email: JOB_EMAIL, email_verified: true }));
    const response = await call(token);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ actor: `oidc:${JOB_EMAIL}`, role: "job" });
  });

  it("a Kubernetes projected service-account token passes as it is", async () => {
    const subject = "system:serviceaccount:reckon:reconcile-cron";
    const local = await buildSecurityApp(db(), issuer, { now: () => NOW, env: { OIDC_JOB_SUBJECTS: `${JOB_SUBJECT},${subject}` } });
    const token = await issuer.sign({
      aud: ["https://kubernetes.default.svc", JOB_AUDIENCE],
      exp: SECONDS + 3600,
      iat: SECONDS - 30,
      nbf: SECONDS - 30,
      iss: issuer.issuer,
      sub: subject,
      "kubernetes.io": { namespace: "reckon", serviceaccount: { name: "reconcile-cron", uid: "0b7d3c52-5a4b-4d7e-9a51-3c2f0f0e9d11" } },
    });
    const response = await local.inject({ method: "POST", url: "/test-only/job-probe", headers: { authorization: `Bearer ${token}` } });
    expect(response.json()).toEqual({ actor: `oidc:${subject}`, role: "job" });
    await local.close();
  });

  it("a token within the clock skew of exp still passes", async () => {
    const response = await call(await issuer.sign(claims({ exp: SECONDS - 20 })));
    expect(response.statusCode).toBe(200);
  });

  // Each refusal: the token, the distinct code it must get, all 401.
  const refusals: [string, () => Promise<string>, string][] = [
    ["wrong audience", () => issuer.sign(claims({ aud: "https://someone-else.example.test" })), "oidc_audience_mismatch"],
    ["wrong issuer", () => issuer.sign(claims({ iss: "https://accounts.google.com" })), "oidc_issuer_mismatch"],
    ["expired", () => issuer.sign(claims({ iat: SECONDS - 7200, exp: SECONDS - 3600 })), "oidc_token_expired"],
    ["not yet valid (nbf)", () => issuer.sign(claims({ nbf: SECONDS + 600 })), "oidc_token_not_yet_valid"],
    ["alg none", async () => unsignedToken(claims()), "oidc_unsigned_token"],
    ["HS256 signed with the public key", () => hs256WithPublicKey(claims(), issuer.currentKey()), "oidc_algorithm_not_allowed"],
    ["unknown kid", async () => issuer.sign(claims(), { key: await issuer.strayKey() }), "oidc_unknown_key"],
    ["subject not listed", () => issuer.sign(claims({ sub: "someone-else" })), "oidc_subject_not_allowed"],
    ["tampered payload", async () => tamperPayload(await issuer.sign(claims({ sub: "someone-else" })), { sub: JOB_SUBJECT }), "oidc_invalid_signature"],
    ["listed email not verified", () => issuer.sign(claims({ sub: "x", email: JOB_EMAIL, email_verified: false })), "oidc_email_not_verified"],
    ["no exp claim", () => issuer.sign({ iss: issuer.issuer, aud: JOB_AUDIENCE, sub: JOB_SUBJECT, iat: SECONDS }), "oidc_missing_claim"],
    ["issued in the future", () => issuer.sign(claims({ iat: SECONDS + 600, exp: SECONDS + 4000 })), "oidc_token_not_yet_valid"],
    ["malformed", async () => "abc.def.ghi", "oidc_malformed_token"],
  ];

  for (const [name, makeToken, code] of refusals) {
    it(`refuses ${name} with 401 ${code} and changes nothing`, async () => {
      const token = await makeToken();
      const before = await tableCounts(db());
      const response = await call(token);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe(code);
      expect(response.body).not.toContain(token);
      expect(await tableCounts(db())).toEqual(before);
    });
  }

  it("gives the nine refusals the issue names nine distinct codes", () => {
    const named = refusals.slice(0, 9).map(([, , code]) => code);
    expect(new Set(named).size).toBe(9);
  });

  it("an API token can never act as the job role", async () => {
    const { createApiToken } = await import("../../auth/apiTokens.js");
    for (const role of ["admin", "service"] as const) {
      const { token } = await createApiToken(db().kysely, { role, name: `no-job-${role}`, now: NOW });
      const response = await call(token);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe("forbidden");
    }
  });
});

describe("OIDC keys", () => {
  let issuer: LocalOidcIssuer;
  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("key rotation works without a restart, and unknown kids refetch at most once per cooldown", async () => {
    const { createTestDatabase } = await import("../../../test/support/testDatabase.js");
    const database = await createTestDatabase("sqlite");
    const cooldownMs = 1_500;
    const app = await buildSecurityApp(database.db, issuer, { oidcKeys: { jwksCooldownMs: cooldownMs } });
    try {
      const now = new Date();
      const call = (token: string) =>
        app.inject({ method: "POST", url: "/test-only/job-probe", headers: { authorization: `Bearer ${token}` } });
      const claims = validClaims(issuer.issuer, JOB_AUDIENCE, now, { sub: JOB_SUBJECT });

      // Signed beforehand, so the flood lands well inside the cooldown that the first fetch starts.
      const stray = await issuer.strayKey();
      const forged = await Promise.all(Array.from({ length: 10 }, () => issuer.sign(claims, { key: stray })));
      const valid = await issuer.sign(claims);

      expect((await call(valid)).statusCode).toBe(200);
      const fetchesBefore = issuer.jwksFetches();
      // A flood of forged kids inside the cooldown causes no refetch at all.
      const flooded = await Promise.all(forged.map((token) => call(token)));
      expect(flooded.map((response) => response.json().error.code)).toEqual(Array(10).fill("oidc_unknown_key"));
      expect(issuer.jwksFetches()).toBe(fetchesBefore);

      const rotated = await issuer.rotate();
      await new Promise((resolve) => setTimeout(resolve, cooldownMs + 100));
      const afterRotation = await call(await issuer.sign(claims, { key: rotated }));
      expect(afterRotation.statusCode).toBe(200);
      expect(issuer.jwksFetches()).toBe(fetchesBefore + 1);
    } finally {
      await app.close();
      await database.drop();
    }
  });

  it("finds the keys through discovery and through an explicit JWKS URL alike", async () => {
    const { createOidcVerifier } = await import("./createOidcVerifier.js");
    const { loadConfig } = await import("../../config.js");
    const now = new Date();
    const token = await issuer.sign(validClaims(issuer.issuer, JOB_AUDIENCE, now, { sub: JOB_SUBJECT }));
    for (const extra of [{}, { OIDC_JWKS_URL: issuer.jwksUrl }]) {
      const config = loadConfig({ OIDC_ISSUER: issuer.issuer, OIDC_AUDIENCE: JOB_AUDIENCE, OIDC_JOB_SUBJECTS: JOB_SUBJECT, ...extra });
      const outcome = await createOidcVerifier(config.auth.oidc!).verify(token, now);
      expect(outcome).toEqual({ outcome: "verified", subject: JOB_SUBJECT, roles: ["job"] });
    }
  });

  it("accepts ES256 issuers, and only the algorithms configured", async () => {
    const { createOidcVerifier } = await import("./createOidcVerifier.js");
    const { loadConfig } = await import("../../config.js");
    const ecIssuer = await startLocalOidcIssuer({ alg: "ES256" });
    try {
      const now = new Date();
      const base = { OIDC_AUDIENCE: JOB_AUDIENCE, OIDC_JOB_SUBJECTS: JOB_SUBJECT };
      const ecToken = await ecIssuer.sign(validClaims(ecIssuer.issuer, JOB_AUDIENCE, now, { sub: JOB_SUBJECT }));
      const ecConfig = loadConfig({ ...base, OIDC_ISSUER: ecIssuer.issuer });
      expect((await createOidcVerifier(ecConfig.auth.oidc!).verify(ecToken, now)).outcome).toBe("verified");
      const rsToken = await issuer.sign(validClaims(issuer.issuer, JOB_AUDIENCE, now, { sub: JOB_SUBJECT }));
      const esOnly = loadConfig({ ...base, OIDC_ISSUER: issuer.issuer, OIDC_ALGORITHMS: "ES256" });
      expect(await createOidcVerifier(esOnly.auth.oidc!).verify(rsToken, now)).toMatchObject({ outcome: "rejected", code: "oidc_algorithm_not_allowed" });
    } finally {
      await ecIssuer.close();
    }
  });

  it("an unreachable issuer answers 503 oidc_keys_unavailable, not 401 or 500", async () => {
    const { createOidcVerifier } = await import("./createOidcVerifier.js");
    const { loadConfig } = await import("../../config.js");
    const gone = await startLocalOidcIssuer();
    const now = new Date();
    const token = await gone.sign(validClaims(gone.issuer, JOB_AUDIENCE, now, { sub: JOB_SUBJECT }));
    await gone.close();
    const config = loadConfig({ OIDC_ISSUER: gone.issuer, OIDC_AUDIENCE: JOB_AUDIENCE, OIDC_JOB_SUBJECTS: JOB_SUBJECT });
    const outcome = await createOidcVerifier(config.auth.oidc!, { fetchTimeoutMs: 1000 }).verify(token, now);
    expect(outcome.outcome).toBe("keys_unavailable");
  });
});

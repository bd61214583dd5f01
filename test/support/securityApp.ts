import type { FastifyInstance } from "fastify";
import { createApiToken, revokeApiToken } from "../../src/auth/apiTokens.js";
import type { KeySourceOptions } from "../../src/auth/oidc/createKeySource.js";
import { loadConfig } from "../../src/config.js";
import { buildApp } from "../../src/http/buildApp.js";
import { actorOf, type RouteDef } from "../../src/http/RouteDef.js";
import { ROUTES } from "../../src/http/routes.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { withTransaction } from "../../src/storage/withTransaction.js";
import type { LocalOidcIssuer } from "./localOidcIssuer.js";

/** The audience the scheduler requests, as Cloud Scheduler does with the target URL. */
export const JOB_AUDIENCE = "https://reckon.example.test/api/jobs";
export const JOB_SUBJECT = "scheduler-subject";
export const JOB_EMAIL = "scheduler@reckon-test.iam.gserviceaccount.com";
export const ADMIN_SUBJECT = "system:serviceaccount:ops:reckon-admin";

/**
 * A test-only route open to the job role, so job authentication is tested before the
 * real job routes exist. It is added to the real route list only inside tests.
 */
export const JOB_PROBE_ROUTE: RouteDef = {
  method: "POST",
  url: "/test-only/job-probe",
  access: ["job"],
  async handle(_request, context) {
    return { status: 200, body: { actor: actorOf(context), role: context.principal?.role ?? null } };
  },
};

export function securityEnv(issuer: LocalOidcIssuer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ENVIRONMENT: "test",
    OIDC_ISSUER: issuer.issuer,
    OIDC_AUDIENCE: JOB_AUDIENCE,
    OIDC_JOB_SUBJECTS: JOB_SUBJECT,
    OIDC_JOB_EMAILS: JOB_EMAIL,
    OIDC_ADMIN_SUBJECTS: ADMIN_SUBJECT,
    OIDC_CLOCK_SKEW_SECONDS: "30",
    ...extra,
  };
}

export async function buildSecurityApp(
  db: Db,
  issuer: LocalOidcIssuer,
  options: { env?: Record<string, string>; now?: () => Date; oidcKeys?: KeySourceOptions; probe?: boolean } = {},
): Promise<FastifyInstance> {
  return buildApp({
    db,
    config: loadConfig(securityEnv(issuer, options.env)),
    ...(options.now ? { now: options.now } : {}),
    ...(options.oidcKeys ? { oidcKeys: options.oidcKeys } : {}),
    routes: options.probe === false ? ROUTES : [...ROUTES, JOB_PROBE_ROUTE],
  });
}

/** One credential of each kind a caller can present. */
export interface Credentials {
  service: string;
  admin: string;
  revoked: string;
  job: string;
  oidcAdmin: string;
}

export async function createCredentials(db: Db, issuer: LocalOidcIssuer, now: Date): Promise<Credentials> {
  const service = await createApiToken(db.kysely, { role: "service", name: "matrix-service", now });
  const admin = await createApiToken(db.kysely, { role: "admin", name: "matrix-admin", now });
  const revoked = await createApiToken(db.kysely, { role: "admin", name: "matrix-revoked", now });
  await withTransaction(db, (trx) => revokeApiToken(trx, { id: revoked.id, actor: "cli:test", now }));
  const seconds = Math.floor(now.getTime() / 1000);
  const claims = { iss: issuer.issuer, aud: JOB_AUDIENCE, iat: seconds - 5, exp: seconds + 3600 };
  return {
    service: service.token,
    admin: admin.token,
    revoked: revoked.token,
    job: await issuer.sign({ ...claims, sub: JOB_SUBJECT }),
    oidcAdmin: await issuer.sign({ ...claims, sub: ADMIN_SUBJECT }),
  };
}

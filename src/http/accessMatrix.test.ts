import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalOidcIssuer, type LocalOidcIssuer } from "../../test/support/localOidcIssuer.js";
import { buildSecurityApp, createCredentials, JOB_PROBE_ROUTE, type Credentials } from "../../test/support/securityApp.js";
import { sampleUrl } from "../../test/support/sampleUrl.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import type { Role } from "./authenticate.js";
import { ERROR_STATUS } from "./errors.js";
import type { RouteDef } from "./RouteDef.js";
import { ROUTES } from "./routes.js";
import { unreachable } from "../unreachable.js";

/**
 * The route-by-credential matrix, generated from the one route list: every route
 * meets every kind of credential, so a new route is tested the moment it is added.
 */

/** Routes anyone may reach. A new public route must be added here on purpose. */
const PUBLIC_URLS = new Set(["/healthz", "/readyz", "/metrics", "/openapi.json", "/api/webhooks/paynow", "/api/webhooks/stripe"]);

/** Codes that mean "authentication refused the caller". */
const AUTH_CODES = new Set<string>([
  "unauthenticated",
  "forbidden",
  "rate_limited",
  ...Object.keys(ERROR_STATUS).filter((code) => code.startsWith("oidc_")),
]);

type CredentialName = "none" | "bad token" | "revoked token" | "service token" | "admin token" | "job OIDC token" | "admin OIDC token";

/** What each credential is, when it is valid at all. */
const CREDENTIAL_ROLES: Record<CredentialName, Role | null> = {
  none: null,
  "bad token": null,
  "revoked token": null,
  "service token": "service",
  "admin token": "admin",
  "job OIDC token": "job",
  "admin OIDC token": "admin",
};

function headerFor(name: CredentialName, credentials: Credentials): Record<string, string> {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  switch (name) {
    case "none":
      return {};
    case "bad token":
      return bearer("rk_admin_thisIsNotAnIssuedTokenAtAll0000000000000");
    case "revoked token":
      return bearer(credentials.revoked);
    case "service token":
      return bearer(credentials.service);
    case "admin token":
      return bearer(credentials.admin);
    case "job OIDC token":
      return bearer(credentials.job);
    case "admin OIDC token":
      return bearer(credentials.oidcAdmin);
  }
  return unreachable(name, "credential");
}

function expectation(route: RouteDef, credential: CredentialName): "passes" | 401 | 403 {
  if (route.access === "public") return "passes";
  const role = CREDENTIAL_ROLES[credential];
  if (role === null) return 401;
  return route.access.includes(role) ? "passes" : 403;
}

describe("the route list", () => {
  it("every route is public on purpose or names at least one known role", () => {
    for (const route of ROUTES) {
      if (route.access === "public") {
        expect(PUBLIC_URLS.has(route.url), `${route.method} ${route.url} is public but not in PUBLIC_URLS`).toBe(true);
      } else {
        expect(route.access.length).toBeGreaterThan(0);
        for (const role of route.access) expect(["service", "admin", "job"]).toContain(role);
      }
    }
  });

  it("job routes are open to the job role only", () => {
    for (const route of ROUTES.filter((candidate) => candidate.url.startsWith("/api/jobs/"))) {
      expect(route.access).toEqual(["job"]);
    }
  });

  it("admin routes are open to admins only", () => {
    for (const route of ROUTES.filter((candidate) => candidate.url.startsWith("/api/admin/"))) {
      expect(route.access).toEqual(["admin"]);
    }
  });
});

describeEachEngine("route-by-credential matrix", (db) => {
  let issuer: LocalOidcIssuer;
  let app: FastifyInstance;
  let credentials: Credentials;

  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
    app = await buildSecurityApp(db(), issuer, { env: { AUTH_FAILURE_LIMIT: "100000" } });
    credentials = await createCredentials(db(), issuer, new Date());
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  for (const route of [...ROUTES, JOB_PROBE_ROUTE]) {
    for (const credential of Object.keys(CREDENTIAL_ROLES) as CredentialName[]) {
      const expected = expectation(route, credential);
      it(`${route.method} ${route.url} with ${credential}: ${expected}`, async () => {
        const headers = headerFor(credential, credentials);
        const response = await app.inject({
          method: route.method,
          url: sampleUrl(route.url),
          headers: route.method === "POST" ? { ...headers, "content-type": "application/json" } : headers,
          ...(route.method === "POST" ? { payload: "{}" } : {}),
        });
        const code: string | undefined = response.headers["content-type"]?.toString().includes("json")
          ? response.json()?.error?.code
          : undefined;
        expect(response.statusCode).not.toBe(500);
        if (expected === "passes") {
          expect(code === undefined || !AUTH_CODES.has(code), `refused with ${code}`).toBe(true);
        } else {
          expect(response.statusCode).toBe(expected);
          expect(code).toBe(expected === 401 ? "unauthenticated" : "forbidden");
        }
        for (const value of Object.values(credentials)) expect(response.body).not.toContain(value);
      });
    }
  }
});

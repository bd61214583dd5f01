import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalOidcIssuer, validClaims, type LocalOidcIssuer } from "../../test/support/localOidcIssuer.js";
import { sampleUrl } from "../../test/support/sampleUrl.js";
import { buildSecurityApp, createCredentials, JOB_AUDIENCE, type Credentials } from "../../test/support/securityApp.js";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import type { Role } from "./authenticate.js";
import type { RouteDef } from "./RouteDef.js";
import { ROUTES } from "./routes.js";

/**
 * Random methods, headers and bodies at every route, with every credential the
 * route does not accept: never a 5xx, never a crash, never a changed table.
 */

const RUNS_PER_ROUTE = 40;
/**
 * Each run is a request through the app: shrinking can take tens of thousands of them, past
 * the test timeout, so a failure is reported as found, with its seed and path to replay.
 */
const RUN_OPTIONS = { numRuns: RUNS_PER_ROUTE, endOnFailure: true };
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** Credentials this route must refuse: none, garbage, forged JWTs, and valid ones of other roles. */
function refusedCredentials(route: RouteDef, credentials: Credentials, forgedJwt: string): fc.Arbitrary<string | undefined> {
  const byRole: [Role, string][] = [
    ["service", credentials.service],
    ["admin", credentials.admin],
    ["job", credentials.job],
  ];
  const wrongRole =
    route.access === "public" ? [] : byRole.filter(([role]) => !route.access.includes(role)).map(([, token]) => `Bearer ${token}`);
  const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);
  return fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.string({ maxLength: 120 }).map((value) => `Bearer ${value}`),
    fc.tuple(base64url, base64url, base64url).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
    // Weighted up: these reach the furthest into authentication.
    { arbitrary: fc.constantFrom(`Bearer ${forgedJwt}`, `Bearer ${credentials.revoked}`, ...wrongRole), weight: 4 },
  );
}

const headerValue = fc.oneof(fc.string({ maxLength: 100 }), fc.stringMatching(/^[\x21-\x7e]{0,300}$/));

const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 500 }),
  fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.from(bytes)),
  // JSON whose strings hold NUL, and JSON text around bytes that are not UTF-8.
  fc.dictionary(fc.constantFrom("amount", "reason", "name", "date"), fc.string({ unit: "binary", maxLength: 20 }).map((text) => `${text}\u0000`)).map((value) =>
    JSON.stringify(value),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => Buffer.concat([Buffer.from('{"reason":"'), Buffer.from(bytes), Buffer.from('"}')])),
  fc.dictionary(fc.constantFrom("amount", "reason", "value", "date", "type", "event_type", "id", "x"), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 4,
  }).map((value) => JSON.stringify(value)),
);

const pathSegment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9._:@-]{1,140}$/),
  // NUL and bytes that are not UTF-8, as a client can put them in a URL.
  fc.constantFrom("%00", "a%00b", "%FF", "%C3%28", "%ED%A0%80"),
);

function request(route: RouteDef, credentials: Credentials, forgedJwt: string) {
  return fc.record({
    method: fc.oneof(fc.constant(route.method), fc.constantFrom(...METHODS)),
    url: fc.oneof(
      fc.constant(sampleUrl(route.url)),
      fc.tuple(pathSegment, fc.string({ maxLength: 60 })).map(
        ([segment, query]) =>
          `${route.url.replace(/:([A-Za-z_]+)/g, () => encodeURIComponent(segment))}?${encodeURIComponent(query)}=${encodeURIComponent(segment)}`,
      ),
    ),
    authorization: refusedCredentials(route, credentials, forgedJwt),
    contentType: fc.option(
      fc.oneof(
        { arbitrary: fc.constant("application/json"), weight: 4 },
        fc.constantFrom("text/plain", "application/octet-stream"),
        headerValue,
      ),
    ),
    extra: fc.dictionary(
      fc.constantFrom("idempotency-key", "paynow-signature", "paynow-timestamp", "stripe-signature", "content-encoding", "x-forwarded-for"),
      headerValue,
      { maxKeys: 4 },
    ),
    body,
  });
}

describeEachEngine("random requests to every route", (db) => {
  let issuer: LocalOidcIssuer;
  let app: FastifyInstance;
  let credentials: Credentials;
  let forgedJwt: string;

  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
    // Configured like a real deployment: the webhook routes can verify, so they refuse with 401.
    const webhookSecrets = {
      PAYNOW_WEBHOOK_SECRETS: randomBytes(24).toString("hex"),
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64url")}`,
    };
    app = await buildSecurityApp(db(), issuer, { env: { AUTH_FAILURE_LIMIT: "1000000", ...webhookSecrets }, probe: false });
    credentials = await createCredentials(db(), issuer, new Date());
    forgedJwt = await issuer.sign(validClaims(issuer.issuer, JOB_AUDIENCE, new Date()), { key: await issuer.strayKey() });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.url}: no 5xx, no crash, no table changed`, async () => {
      const before = await tableCounts(db());
      await fc.assert(
        fc.asyncProperty(request(route, credentials, forgedJwt), async (input) => {
          const headers: Record<string, string> = { ...input.extra };
          if (input.authorization !== undefined) headers.authorization = input.authorization;
          if (input.contentType !== null) headers["content-type"] = input.contentType;
          const response = await app
            .inject({
              method: input.method,
              url: input.url,
              headers,
              ...(input.body === undefined || input.method === "GET" || input.method === "HEAD" ? {} : { payload: input.body }),
            })
            .catch((error: unknown) => ({ statusCode: -1, body: String(error) }));
          expect(response.statusCode, response.body).toBeGreaterThanOrEqual(200);
          expect(response.statusCode, response.body).toBeLessThan(500);
          expect(await tableCounts(db())).toEqual(before);
        }),
        RUN_OPTIONS,
      );
      const health = await app.inject({ method: "GET", url: "/healthz" });
      expect(health.statusCode).toBe(200);
    });
  }
});

/** The fields any route's body knows, so a NUL can sit in a field the route would read. */
const BODY_FIELDS = ["amount", "reason", "name", "pointsPerUnit", "value", "date", "type", "startDate", "endDate", "dryRun", "maxEvents"] as const;
const nulText = fc.tuple(fc.string({ maxLength: 20, unit: "binary" }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`);

const nulPlacement = fc.oneof(
  fc.record({ where: fc.constant("body" as const), key: fc.constantFrom(...BODY_FIELDS), text: nulText, inKey: fc.boolean() }),
  fc.record({ where: fc.constantFrom("path" as const, "query" as const, "header" as const), text: nulText }),
);

function acceptedCredential(route: RouteDef, credentials: Credentials): string | undefined {
  if (route.access === "public") return undefined;
  const role = route.access[0]!;
  return `Bearer ${role === "job" ? credentials.job : role === "admin" ? credentials.admin : credentials.service}`;
}

describeEachEngine("text holding NUL, from a caller the route accepts", (db) => {
  let issuer: LocalOidcIssuer;
  let app: FastifyInstance;
  let credentials: Credentials;

  beforeAll(async () => {
    issuer = await startLocalOidcIssuer();
    app = await buildSecurityApp(db(), issuer, { env: { AUTH_FAILURE_LIMIT: "1000000" }, probe: false });
    credentials = await createCredentials(db(), issuer, new Date());
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  for (const route of ROUTES.filter((candidate) => !candidate.rawBody)) {
    it(`${route.method} ${route.url}: 400 nul_character before the route reads anything`, async () => {
      const before = await tableCounts(db());
      await fc.assert(
        fc.asyncProperty(nulPlacement, async (placement) => {
          const headers: Record<string, string> = { "idempotency-key": `fuzz-${randomBytes(6).toString("hex")}` };
          const authorization = acceptedCredential(route, credentials);
          if (authorization) headers.authorization = authorization;
          let url = sampleUrl(route.url);
          let payload: string | undefined;
          const where = placement.where === "body" && route.method === "GET" ? "query" : placement.where;
          if (where === "body" && placement.where === "body") {
            headers["content-type"] = "application/json";
            payload = JSON.stringify(placement.inKey ? { [placement.text]: 1 } : { [placement.key]: placement.text });
          } else if (where === "path" && route.url.includes(":")) {
            url = route.url.replace(/:([A-Za-z_]+)/, encodeURIComponent(placement.text)).replace(/:([A-Za-z_]+)/g, "sample1");
          } else if (where === "header") {
            headers["idempotency-key"] = placement.text;
          } else {
            url = `${url}?note=${encodeURIComponent(placement.text)}`;
          }
          if (payload === undefined && route.method !== "GET") {
            headers["content-type"] = "application/json";
            payload = "{}";
          }
          const response = await app.inject({ method: route.method, url, headers, ...(payload === undefined ? {} : { payload }) });
          expect(response.statusCode, response.body).toBe(400);
          expect(response.json().error.code, response.body).toBe("nul_character");
        }),
        RUN_OPTIONS,
      );
      expect(await tableCounts(db())).toEqual(before);
    });
  }
});

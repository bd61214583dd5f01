import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildTestApp, type TestApp } from "../../test/support/testApp.js";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { BODY_LIMIT_BYTES } from "./buildApp.js";
import { ERROR_STATUS } from "./errors.js";
import { ROUTES } from "./routes.js";

type Json = Record<string, any>;

/** The document as a client sees it: served over HTTP, without credentials. */
async function fetchDocument(t: TestApp): Promise<Json> {
  const response = await t.app.inject({ method: "GET", url: "/openapi.json" });
  expect(response.statusCode).toBe(200);
  expect(response.headers["content-type"]).toMatch(/^application\/json/);
  return JSON.parse(response.body) as Json;
}

/** `:name` → `{name}`, written independently of the code under test. */
function templated(url: string): string {
  return url
    .split("/")
    .map((part) => (part.startsWith(":") ? `{${part.slice(1)}}` : part))
    .join("/");
}

/**
 * Routes whose bodies the fuzz check sends: a URL and headers under which only the body
 * can be wrong, and a body the route accepts, to mutate.
 */
const FUZZED: { method: "POST" | "PUT"; url: string; path: string; role: "service" | "admin"; idempotent: boolean; valid: Json }[] = [
  { method: "POST", path: "/api/wallets/:uid/spend", url: "/api/wallets/fuzz_user/spend", role: "service", idempotent: true, valid: { amount: 1, reason: "r" } },
  {
    method: "POST",
    path: "/api/admin/wallets/:uid/adjustments",
    url: "/api/admin/wallets/fuzz_user/adjustments",
    role: "admin",
    idempotent: true,
    valid: { amount: 5, reason: "r" },
  },
  { method: "POST", path: "/api/admin/entries/:id/reverse", url: "/api/admin/entries/1/reverse", role: "admin", idempotent: true, valid: { amount: 1, reason: "r" } },
  { method: "PUT", path: "/api/admin/products/:provider/:productId", url: "/api/admin/products/paynow/fuzz", role: "admin", idempotent: false, valid: { pointsPerUnit: 10, name: "n" } },
  { method: "POST", path: "/api/admin/flags/:name", url: "/api/admin/flags/adjustments_frozen", role: "admin", idempotent: false, valid: { value: true } },
];

/** JSON values without NUL (refused before any schema, by its own code). */
const jsonValue = fc.jsonValue().filter((value) => !JSON.stringify(value).includes("\\u0000"));

/** A body built to break a schema: a field dropped, a field of another type, an extra field, or anything. */
function brokenBody(valid: Json): fc.Arbitrary<Json> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([name]) => name !== key))),
    fc.tuple(fc.constantFrom(...keys), jsonValue).map(([key, value]) => ({ ...valid, [key]: value })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 8 }).filter((key) => !keys.includes(key) && !key.includes("\u0000")), jsonValue).map(([key, value]) => ({ ...valid, [key]: value })),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((key) => !key.includes("\u0000")), jsonValue, { maxKeys: 4 }),
  );
}

describe("the OpenAPI document, from the route list", () => {
  it("every JSON route that takes a body declares its body schema (so it is documented)", () => {
    const withBody = ROUTES.filter((route) => route.schema?.body);
    // The JSON routes that take a body all declare it; a route that forgets cannot be documented.
    expect(withBody.map((route) => `${route.method} ${route.url}`).sort()).toEqual(
      ROUTES.filter((route) => route.method !== "GET" && !route.rawBody)
        .map((route) => `${route.method} ${route.url}`)
        .sort(),
    );
  });
});

describeEachEngine("GET /openapi.json", (db) => {
  let t: TestApp;
  let document: Json;
  beforeAll(async () => {
    t = await buildTestApp(db());
    document = await fetchDocument(t);
  });

  it("is OpenAPI 3.1.0 JSON with the package version, public", async () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["apiToken", "oidcToken", "paynowSignature", "stripeSignature"]);
  });

  it("describes every route in ROUTES, with its method, and nothing else", () => {
    const described = Object.entries(document.paths as Record<string, Json>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = ROUTES.map((route) => `${route.method} ${templated(route.url)}`);
    expect(described.sort()).toEqual([...expected].sort());
  });

  it("names each route's path parameters and its security", () => {
    for (const route of ROUTES) {
      const operation = document.paths[templated(route.url)][route.method.toLowerCase()];
      const names = (route.url.match(/:[A-Za-z]+/g) ?? []).map((name) => name.slice(1));
      const inPath = operation.parameters.filter((parameter: Json) => parameter.in === "path").map((parameter: Json) => parameter.name);
      expect(inPath, route.url).toEqual(names);
      const schemes = operation.security.flatMap((requirement: Json) => Object.keys(requirement));
      if (route.rawBody) expect(schemes, route.url).toEqual([`${route.url.split("/").pop()}Signature`]);
      else if (route.access === "public") expect(schemes, route.url).toEqual([]);
      else {
        expect(schemes, route.url).toContain("oidcToken");
        // API tokens never carry the job role.
        expect(schemes.includes("apiToken"), route.url).toBe(route.access.some((role) => role !== "job"));
      }
    }
  });

  it("a uid its path parameter's pattern rejects (per ajv) is answered 400 invalid_uid", async () => {
    const ajv = new Ajv2020({ strict: false });
    const uid = document.paths["/api/wallets/{uid}"].get.parameters.find((parameter: Json) => parameter.name === "uid").schema;
    const compiled = ajv.compile(uid);
    const validate = (value: string): boolean => compiled(value) as boolean;
    expect(validate("fuzz_user")).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 130, unit: "binary" }), async (candidate) => {
        // `..` is a dot-segment: the URL resolves to /api/wallets (404) and never names a uid.
        fc.pre(!validate(candidate) && !candidate.includes("\u0000") && candidate !== "..");
        const response = await t.app.inject({ method: "GET", url: `/api/wallets/${encodeURIComponent(candidate)}`, headers: t.as.service });
        expect(response.statusCode).toBe(400);
        expect(response.json().error.code).toBe("invalid_uid");
      }),
      { numRuns: 60, examples: [["."], ["a b"], ["u".repeat(129)], ["ü"]] },
    );
  });

  it("gives each route with a body schema the JSON Schema of the zod schema the handler validates with", () => {
    for (const route of ROUTES.filter((candidate) => candidate.schema?.body)) {
      const operation = document.paths[templated(route.url)][route.method.toLowerCase()];
      const { $schema: _dialect, ...expected } = z.toJSONSchema(route.schema!.body!, { io: "input", unrepresentable: "any" }) as Json;
      expect(operation.requestBody.content["application/json"].schema, route.url).toEqual(expected);
    }
  });

  it("documents every error status with the error body and its codes, each code answering with that status", () => {
    for (const [path, operations] of Object.entries(document.paths as Record<string, Json>)) {
      for (const operation of Object.values(operations as Record<string, Json>)) {
        const statuses = Object.keys(operation.responses).filter((status) => Number(status) >= 400);
        expect(statuses, path).toContain("500");
        for (const status of statuses) {
          const schema = operation.responses[status].content["application/json"].schema;
          expect(schema.properties.error.required).toEqual(["code", "message"]);
          for (const code of schema.properties.error.properties.code.enum as string[]) {
            expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${path} ${code}`).toBe(Number(status));
          }
        }
      }
    }
    // Every code of the table is listed, grouped by its status.
    const grouped = document["x-reckon-error-codes"] as Record<string, string[]>;
    expect(Object.values(grouped).flat().sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });

  it("a query parameter the document does not list is answered 400 invalid_query, on every route with a query schema", async () => {
    const sample: Record<string, string> = { uid: "fuzz_user", date: "2026-02-01", id: "1" };
    const withQuery = ROUTES.filter((route) => route.schema?.query);
    expect(withQuery.length).toBeGreaterThan(0);
    for (const route of withQuery) {
      const operation = document.paths[templated(route.url)][route.method.toLowerCase()];
      const listed = new Set(operation.parameters.filter((parameter: Json) => parameter.in === "query").map((parameter: Json) => parameter.name));
      expect(listed.has("unlisted"), route.url).toBe(false);
      const url = route.url.replace(/:([A-Za-z]+)/g, (_match, name: string) => sample[name]!);
      const role = route.access !== "public" && route.access.includes("service") ? "service" : "admin";
      const response = await t.app.inject({ method: route.method, url: `${url}?unlisted=1`, headers: t.as[role] });
      expect(response.statusCode, route.url).toBe(400);
      expect(response.json().error.code, route.url).toBe("invalid_query");
    }
  });

  it("a body its schema rejects (per ajv, not zod) is answered 400, or 413 past the route's body limit, and changes nothing", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    const before = await tableCounts(db());
    for (const [index, route] of FUZZED.entries()) {
      const operation = document.paths[templated(route.path)][route.method.toLowerCase()];
      const validate = ajv.compile(operation.requestBody.content["application/json"].schema);
      expect(validate(route.valid), route.path).toBe(true);
      const limitBytes = ROUTES.find((candidate) => candidate.method === route.method && candidate.url === route.path)!.bodyLimitBytes ?? BODY_LIMIT_BYTES;
      // Rejected by its schema and one byte past the route's body limit (the flag route's is 1 KB).
      const overLimit = { ...route.valid, padding: "x".repeat(limitBytes) };
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(brokenBody(route.valid), async (body) => {
          fc.pre(!validate(body));
          const payload = JSON.stringify(body);
          sent += 1;
          const response = await t.app.inject({
            method: route.method,
            url: route.url,
            headers: {
              ...t.as[route.role],
              "content-type": "application/json",
              ...(route.idempotent ? { "idempotency-key": `fuzz-${index}-${sent}` } : {}),
            },
            payload,
          });
          // The route's body limit is checked before its schema (abuseLimits.test.ts covers every route).
          if (Buffer.byteLength(payload) > limitBytes) {
            expect(response.statusCode).toBe(413);
            expect(response.json().error.code).toBe("body_too_large");
            return;
          }
          expect(response.statusCode).toBe(400);
          // invalid_json: a `__proto__` key is refused by the JSON parser before the schema.
          expect(["invalid_body", "unknown_field", "invalid_json"]).toContain(response.json().error.code);
        }),
        // Each run is a request through the app: shrinking a JSON body can take tens of thousands of
        // them, past the test timeout, so a failure is reported as found, with its seed to replay.
        { numRuns: 40, endOnFailure: true, ...(limitBytes < BODY_LIMIT_BYTES ? { examples: [[overLimit]] } : {}) },
      );
      expect(sent, route.path).toBeGreaterThan(0);
    }
    expect(await tableCounts(db())).toEqual(before);
  });
});

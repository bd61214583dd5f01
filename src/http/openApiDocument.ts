import { z } from "zod";
import { PROVIDERS } from "../providers/PaymentEvent.js";
import { ERROR_STATUS, type ErrorCode } from "./errors.js";
import { UID_PATTERN } from "./input.js";
import type { RouteDef } from "./RouteDef.js";

type JsonSchema = Record<string, unknown>;

/**
 * Codes any route can answer: the app's own guards around every handler, and the refusal
 * of any write (and of the health routes) after an fsync of SQLite's log failed.
 */
const EVERY_ROUTE: readonly ErrorCode[] = ["bad_request", "invalid_path", "nul_character", "internal_error", "writes_suspended"];
/** Codes of a route that reads a JSON body. */
const BODY_CODES: readonly ErrorCode[] = ["invalid_json", "invalid_body", "unknown_field", "body_too_large", "unsupported_media_type"];
/** Codes of a route behind a bearer credential (API token or OIDC token). */
const BEARER_CODES: readonly ErrorCode[] = ["unauthenticated", "forbidden", "rate_limited"];
/** Codes only an OIDC token can earn: the job routes. */
const OIDC_CODES = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => code.startsWith("oidc_"));

/** Path parameters whose rule is one shared value; the rest are described as strings. */
const PATH_SCHEMAS: Record<string, JsonSchema> = {
  uid: { type: "string", pattern: UID_PATTERN.source },
  date: { type: "string", format: "date" },
  provider: { type: "string", enum: [...PROVIDERS] },
};

/** A zod schema as the JSON Schema (2020-12, the dialect of OpenAPI 3.1) of the input it accepts. */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return json;
}

/** `/api/wallets/:uid` → `/api/wallets/{uid}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function pathParameterNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

/** Every code a route can answer with, in `ERROR_STATUS` order. */
export function routeErrorCodes(route: RouteDef): ErrorCode[] {
  const codes = new Set<ErrorCode>([...EVERY_ROUTE, ...(route.errors ?? [])]);
  if (route.timeoutMs !== null) codes.add("handler_timeout");
  if (route.schema?.body || route.rawBody) for (const code of BODY_CODES) codes.add(code);
  if (route.schema?.query) codes.add("invalid_query");
  if (route.access !== "public") {
    for (const code of BEARER_CODES) codes.add(code);
    if (route.access.includes("job")) for (const code of [...OIDC_CODES, "oidc_keys_unavailable" as const]) codes.add(code);
  }
  return (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => codes.has(code));
}

function security(route: RouteDef): Record<string, string[]>[] {
  if (route.rawBody) return [{ [`${route.url.split("/").pop()}Signature`]: [] }];
  if (route.access === "public") return [];
  const schemes: Record<string, string[]>[] = [];
  const tokenRoles = route.access.filter((role) => role !== "job");
  if (tokenRoles.length > 0) schemes.push({ apiToken: [...tokenRoles] });
  if (route.access.length > 0) schemes.push({ oidcToken: [...route.access] });
  return schemes;
}

function parameters(route: RouteDef): JsonSchema[] {
  const path = pathParameterNames(route.url).map((name) => ({ name, in: "path", required: true, schema: PATH_SCHEMAS[name] ?? { type: "string" } }));
  const query: JsonSchema[] = [];
  if (route.schema?.query) {
    const json = inputJsonSchema(route.schema.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      query.push({ name, in: "query", required: (json.required ?? []).includes(name), schema });
    }
  }
  const idempotent = route.errors?.includes("missing_idempotency_key")
    ? [{ name: "Idempotency-Key", in: "header", required: true, schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,200}$" } }]
    : [];
  return [...path, ...query, ...idempotent];
}

function requestBody(route: RouteDef): JsonSchema | undefined {
  if (route.schema?.body) {
    return {
      required: !route.schema.bodyOptional,
      content: { "application/json": { schema: inputJsonSchema(route.schema.body) } },
    };
  }
  if (route.rawBody) {
    return {
      required: true,
      description: "The provider's event exactly as sent: the signature covers these bytes (see PROVIDERS.md).",
      content: { "application/json": { schema: { type: "object" } } },
    };
  }
  return undefined;
}

function responses(route: RouteDef): JsonSchema {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrorCodes(route)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const answered: JsonSchema = {
    [successStatus(route)]: {
      description: "Success",
      content: route.url === "/metrics" ? { "text/plain": { schema: { type: "string" } } } : { "application/json": { schema: {} } },
    },
  };
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    answered[String(status)] = {
      description: `Refused: ${codes.join(", ")}`,
      content: { "application/json": { schema: errorBodySchema(codes) } },
    };
  }
  return answered;
}

function successStatus(route: RouteDef): string {
  if (route.errors?.includes("missing_idempotency_key")) return "201";
  return "200";
}

function errorBodySchema(codes: readonly ErrorCode[]): JsonSchema {
  return {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string", enum: [...codes] }, message: { type: "string" } },
        additionalProperties: true,
      },
    },
  };
}

/** The error codes grouped by the status each answers with: the whole table, for clients. */
function codesByStatus(): Record<string, ErrorCode[]> {
  const grouped: Record<string, ErrorCode[]> = {};
  for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
    (grouped[String(status)] ??= []).push(code);
  }
  return grouped;
}

/**
 * The OpenAPI 3.1 document of `routes`, generated from the zod schemas the handlers
 * validate with (`RouteDef.schema`) and the error table (`ERROR_STATUS`).
 */
export function openApiDocument(routes: readonly RouteDef[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const operation: JsonSchema = {
      operationId: `${route.method.toLowerCase()} ${route.url}`,
      ...(route.summary ? { summary: route.summary } : {}),
      security: security(route),
      parameters: parameters(route),
      ...(requestBody(route) ? { requestBody: requestBody(route) } : {}),
      responses: responses(route),
    };
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Reckon",
      version,
      description: "Point wallets kept provably equal to their ledger, reconciled against PayNow and Stripe.",
    },
    "x-reckon-not-described":
      "The /admin pages (HTML, cookie session with CSRF) are for people in a browser and are left out of this document.",
    "x-reckon-error-codes": codesByStatus(),
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "An API token (`reckon token create`); the scopes are its roles." },
        oidcToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An OIDC ID token from the configured issuer (OIDC_ISSUER); the scopes are the roles it is mapped to. Only it carries the job role.",
        },
        paynowSignature: { type: "apiKey", in: "header", name: "PayNow-Signature", description: "HMAC-SHA256 of the timestamp and raw body (with PayNow-Timestamp)." },
        stripeSignature: { type: "apiKey", in: "header", name: "Stripe-Signature", description: "Stripe's `t=…,v1=…` signature of the raw body." },
      },
      schemas: { Error: errorBodySchema(Object.keys(ERROR_STATUS) as ErrorCode[]) },
    },
  };
}

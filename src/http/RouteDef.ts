import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import type { IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Access, Principal } from "./authenticate.js";
import type { AppContext } from "./context.js";
import { AppError, type ErrorCode } from "./errors.js";
import { refusal } from "./refusals.js";

export interface RouteContext extends AppContext {
  principal: Principal | null;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * The zod schemas a route validates its body and query with. The handler parses with
 * these very objects and `GET /openapi.json` is generated from them, so the document
 * cannot drift from validation.
 */
export interface RouteSchema {
  body?: z.ZodType;
  /** A body that may be left out (an empty request means the defaults). */
  bodyOptional?: boolean;
  query?: z.ZodType;
}

export interface RouteDef {
  method: "GET" | "POST" | "PUT";
  url: string;
  access: Access;
  /** One line for the OpenAPI document. */
  summary?: string;
  schema?: RouteSchema;
  /**
   * The codes this route's own checks and outcomes can answer, for the OpenAPI document.
   * Codes that follow from `access`, `schema` and the app (auth, body parsing, timeouts)
   * are added by `openApiDocument`; list only the rest.
   */
  errors?: readonly ErrorCode[];
  /** The route reads the exact request bytes (signature checks) instead of parsed JSON. */
  rawBody?: boolean;
  /** A tighter body limit than the app's 1 MB, for routes whose bodies are small. */
  bodyLimitBytes?: number;
  /**
   * How long the route may take (default 30 s; job routes 30 min): past it, 503
   * handler_timeout. `null`: no handler timer; the route bounds its own work.
   */
  timeoutMs?: number | null;
  handle(request: FastifyRequest, context: RouteContext): Promise<Reply>;
}

/**
 * Answers an idempotent operation: a replay carries the first answer unchanged plus
 * `Idempotent-Replayed: true`; a reused key with another request is 409.
 */
export function answerIdempotent<O>(result: IdempotentResult<O>, answer: (outcome: O) => Reply): Reply {
  if (result.kind === "key_reused") throw refusal({ outcome: "key_reused" });
  let reply: Reply;
  try {
    reply = answer(result.outcome);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    reply = { status: error.status, body: error.toBody() };
  }
  if (result.kind === "replayed") reply = { ...reply, headers: { ...reply.headers, "idempotent-replayed": "true" } };
  return reply;
}

/** The name an action is audited under. */
export function actorOf(context: RouteContext): string {
  const principal = context.principal;
  if (!principal) return "anonymous";
  return "via" in principal ? `oidc:${principal.name}` : `token:${principal.name}`;
}

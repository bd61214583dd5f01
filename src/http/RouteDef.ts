import type { FastifyRequest } from "fastify";
import type { IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Access, Principal } from "./authenticate.js";
import type { AppContext } from "./context.js";
import { AppError } from "./errors.js";
import { refusal } from "./refusals.js";

export interface RouteContext extends AppContext {
  principal: Principal | null;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: "GET" | "POST" | "PUT";
  url: string;
  access: Access;
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

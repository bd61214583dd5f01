import type { FastifyRequest } from "fastify";
import { authenticateToken, type TokenPrincipal } from "../auth/apiTokens.js";
import type { OidcRole } from "../auth/authSettings.js";
import type { OidcVerifier } from "../auth/oidc/createOidcVerifier.js";
import type { TokenRole } from "../storage/schema.js";
import type { AuthFailureLimiter } from "./AuthFailureLimiter.js";
import type { AppContext } from "./context.js";
import { AppError } from "./errors.js";
import { unreachable } from "../unreachable.js";

/**
 * Roles: `service` (wallet reads, spends), `admin` (reports, backfill runs, adjustments,
 * reversals, catalogue, flags), `job` (the job routes). API tokens carry service or
 * admin only; the job role is held only by a verified OIDC token, so a leaked API
 * token can never start a job.
 */
export type Role = TokenRole | "job";
export type Access = "public" | readonly Role[];

export interface OidcPrincipal {
  via: "oidc";
  /** The email when the issuer gave one, else the subject. */
  name: string;
  subject: string;
  role: OidcRole;
}
export type Principal = TokenPrincipal | OidcPrincipal;

/** What authentication needs besides the database: built once per app. */
export interface AuthServices {
  oidc?: OidcVerifier;
  failures: AuthFailureLimiter;
}

/** Header values longer than this are not credentials; Google ID tokens are ~1 KB. */
const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/;
/** A compact JWS: three base64url parts (the last is empty for `alg: none`). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Resolves the caller from `Authorization: Bearer …` and checks it may use the route. */
export async function authenticate(request: FastifyRequest, access: Access, context: AppContext): Promise<Principal | null> {
  if (access === "public") return null;
  const { failures } = context.auth;
  const address = request.ip;
  const nowMs = context.now().getTime();
  const waitSeconds = failures.retryAfterSeconds(address, nowMs);
  if (waitSeconds > 0) {
    throw new AppError("rate_limited", "too many failed authentications; wait before retrying", { retryAfterSeconds: waitSeconds });
  }
  const fail = (error: AppError): never => {
    failures.recordFailure(address, nowMs);
    throw error;
  };
  const header = request.headers.authorization;
  const match = typeof header === "string" ? BEARER.exec(header) : null;
  if (!match) return fail(new AppError("unauthenticated", "send Authorization: Bearer <token>"));
  const credential = match[1]!;
  const principal = JWT_SHAPE.test(credential)
    ? await oidcPrincipal(credential, access, context, fail)
    : await tokenPrincipal(credential, context, fail);
  if (!access.includes(principal.role)) {
    throw new AppError("forbidden", `this route is not open to the ${principal.role} role`);
  }
  return principal;
}

async function tokenPrincipal(token: string, context: AppContext, fail: (error: AppError) => never): Promise<TokenPrincipal> {
  const principal = await authenticateToken(context.db.kysely, token);
  return principal ?? fail(new AppError("unauthenticated", "the token is not valid"));
}

async function oidcPrincipal(
  token: string,
  access: readonly Role[],
  context: AppContext,
  fail: (error: AppError) => never,
): Promise<OidcPrincipal> {
  const verifier = context.auth.oidc;
  if (!verifier) return fail(new AppError("oidc_not_configured", "this server accepts no OIDC tokens (OIDC_ISSUER is not set)"));
  const outcome = await verifier.verify(token, context.now());
  switch (outcome.outcome) {
    case "verified": {
      // A caller listed for several roles acts in the one this route accepts.
      const role = outcome.roles.find((candidate) => access.includes(candidate)) ?? outcome.roles[0]!;
      return { via: "oidc", name: outcome.email ?? outcome.subject, subject: outcome.subject, role };
    }
    case "rejected":
      return fail(new AppError(outcome.code, outcome.message));
    case "keys_unavailable":
      throw new AppError("oidc_keys_unavailable", "the identity provider's keys cannot be read right now; retry later");
  }
  return unreachable(outcome, "OIDC outcome");
}

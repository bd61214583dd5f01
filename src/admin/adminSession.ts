import { createHmac, timingSafeEqual } from "node:crypto";
import "@fastify/cookie";
import type { FastifyRequest } from "fastify";
import { authenticate, type Principal } from "../http/authenticate.js";
import type { AppContext } from "../http/context.js";
import { AppError } from "../http/errors.js";

/**
 * The admin page's session: the admin's own credential (an API token or an OIDC ID
 * token) in an HttpOnly, SameSite=Strict cookie scoped to /admin, checked on every
 * request exactly as a Bearer header is (so a revoked token or an expired ID token ends
 * the session at once). See docs/decisions/admin-page-session.md.
 */
export const SESSION_COOKIE = "reckon_admin";
/** The browser forgets the cookie after a working day; the credential itself may end sooner. */
export const SESSION_MAX_AGE_SECONDS = 8 * 3600;
/** The form field (or header, for scripts) that carries the CSRF token. */
export const CSRF_FIELD = "csrf";

export interface AdminSession {
  credential: string;
  principal: Principal;
  /** This session's CSRF token, put in every form the page renders. */
  csrf: string;
}

/**
 * The CSRF token of a session: HMAC-SHA256 keyed by the session's credential. Only the
 * holder of the HttpOnly cookie's value can compute it, it needs no server-side state
 * or extra secret (every instance behind a load balancer agrees), and a token made for
 * one session is worthless with another's cookie.
 */
export function csrfTokenFor(credential: string): string {
  return createHmac("sha256", credential).update("reckon-admin-csrf-v1").digest("base64url");
}

/** Refuses a state-changing request whose CSRF token is absent or not this session's. */
export function checkCsrf(session: AdminSession, submitted: unknown): void {
  if (submitted === undefined || submitted === "") throw new AppError("csrf_missing", "this action needs the page's CSRF token; reload the page and try again");
  const expected = Buffer.from(session.csrf);
  const given = Buffer.from(typeof submitted === "string" ? submitted : "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError("csrf_invalid", "the CSRF token does not belong to this session; reload the page and try again");
  }
}

/**
 * Authenticates `credential` for the admin role as the API does for a Bearer header:
 * the same token lookup, OIDC verification, role check and failed-attempt limit.
 */
export async function authenticateAdmin(request: FastifyRequest, credential: string, context: AppContext): Promise<Principal> {
  // `authenticate` reads only the client address and the Authorization header.
  const asBearer = { ip: request.ip, headers: { authorization: `Bearer ${credential}` } } as unknown as FastifyRequest;
  const principal = await authenticate(asBearer, ["admin"], context);
  if (!principal) throw new Error("admin access resolved no principal");
  return principal;
}

/** The session the request's cookie holds; 401 `unauthenticated` without one. */
export async function readSession(request: FastifyRequest, context: AppContext): Promise<AdminSession> {
  const credential = request.cookies[SESSION_COOKIE];
  if (!credential) throw new AppError("unauthenticated", "log in at /admin/login");
  const principal = await authenticateAdmin(request, credential, context);
  return { credential, principal, csrf: csrfTokenFor(credential) };
}

import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { AppError, toAppError } from "../http/errors.js";
import { refuseNul, UID_PATTERN } from "../http/input.js";
import { ADMIN_BODY_LIMIT_BYTES, adminActions } from "./adminActions.js";
import { adminAssets } from "./adminAssets.js";
import { adminPages } from "./adminPages.js";
import { SESSION_COOKIE } from "./adminSession.js";
import { wantsJson } from "./wantsJson.js";
import { errorPage } from "./templates/errorPage.js";

/** Only Reckon's own script, styles and fetches; no frames, no forms to elsewhere. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Where a browser is sent back to after a form post: the page the form was on. */
function returnPage(request: FastifyRequest): string {
  const uid = (request.params as { uid?: unknown } | undefined)?.uid;
  switch (request.routeOptions.url) {
    case "/admin/login":
      return "/admin/login";
    case "/admin/provider-findings/:id/resolve":
      return "/admin/findings";
    case "/admin/users/:uid/adjustments":
      return typeof uid === "string" && UID_PATTERN.test(uid) ? `/admin/users/${encodeURIComponent(uid)}` : "/admin";
    default:
      return "/admin";
  }
}

/**
 * Refusals: JSON clients get `{ error: { code, message } }` with the code's status. A
 * browser without a valid session is sent to the login form; a refused form post is
 * sent back to its page with the code (`?refused=code`, shown in a banner), so the
 * browser never lands on an error status after a click; a page it cannot open is an
 * error page with the status and the code.
 */
function answerRefusal(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(error);
  if (appError.code === "internal_error") request.log.error({ err: error }, "admin page request failed");
  const retryAfter = appError.details["retryAfterSeconds"];
  if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
  if (appError.status === 401 && request.cookies?.[SESSION_COOKIE]) reply.clearCookie(SESSION_COOKIE, { path: "/admin" });
  if (wantsJson(request)) return reply.code(appError.status).send(appError.toBody());
  if (request.method === "POST" && appError.code !== "internal_error") {
    const target = appError.status === 401 ? "/admin/login" : returnPage(request);
    return reply.code(303).header("location", `${target}?refused=${appError.code}`).send();
  }
  if (appError.status === 401) return reply.code(303).header("location", "/admin/login").send();
  return reply.code(appError.status).type("text/html; charset=utf-8").send(errorPage(appError.status, appError.code, appError.message, null).text);
}

/**
 * Refuses a form post another site made the browser send (a login CSRF, where no
 * session token exists yet): browsers label such requests `Sec-Fetch-Site: cross-site`
 * or `same-site`; a typed URL or bookmark is `none`.
 */
function refuseCrossSite(request: FastifyRequest): void {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new AppError("cross_site_request", "this action may only be sent from the Reckon admin page itself");
  }
}

/**
 * `/admin`: the revenue-assurance page (server-rendered HTML, a login that keeps the
 * admin's token in an HttpOnly cookie, a CSRF token on every action). Registered in its
 * own scope, so its cookie and form parsing never reach the JSON API.
 */
export async function registerAdminPage(app: FastifyInstance, context: AppContext): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(fastifyCookie);
    await scope.register(fastifyFormbody, { bodyLimit: ADMIN_BODY_LIMIT_BYTES });
    scope.addHook("onRequest", async (_request, reply) => {
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
      reply.header("cache-control", "no-store");
    });
    scope.addHook("preHandler", async (request) => {
      refuseNul(request);
      if (request.method === "POST") refuseCrossSite(request);
    });
    scope.setErrorHandler(answerRefusal);
    for (const [name, asset] of adminAssets()) {
      scope.get(`/admin/assets/${name}`, async (_request, reply) =>
        reply.header("cache-control", "public, max-age=3600").type(asset.contentType).send(asset.body),
      );
    }
    adminPages(scope, context);
    adminActions(scope, context);
  });
}

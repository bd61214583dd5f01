import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { DestinationStream } from "pino";
import { registerAdminPage } from "../admin/adminPage.js";
import { createOidcVerifier } from "../auth/oidc/createOidcVerifier.js";
import type { KeySourceOptions } from "../auth/oidc/createKeySource.js";
import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import { AuthFailureLimiter } from "./AuthFailureLimiter.js";
import { authenticate, type AuthServices } from "./authenticate.js";
import type { AppContext } from "./context.js";
import { AppError, toAppError } from "./errors.js";
import { refuseNul } from "./input.js";
import type { RouteDef } from "./RouteDef.js";
import { ROUTES } from "./routes.js";

export interface BuildAppOptions {
  db: Db;
  config: Config;
  now?: () => Date;
  /** Log requests (pino). Tests leave it off. */
  log?: boolean;
  /** Where log lines go (default stdout); tests capture them to prove redaction. */
  logStream?: DestinationStream;
  /** The routes to serve; tests add probe routes to the real list, never replace it in production. */
  routes?: readonly RouteDef[];
  /** Key-fetch timings for the OIDC verifier; tests shorten the cooldown to show rotation. */
  oidcKeys?: KeySourceOptions;
  /** Socket timeouts; tests shorten them to see a slow client cut off. */
  timeouts?: { requestMs?: number; connectionMs?: number; checkIntervalMs?: number; handlerMs?: number };
}

/** One megabyte: no legitimate request to Reckon is larger. */
export const BODY_LIMIT_BYTES = 1_048_576;

export const REQUEST_TIMEOUT_MS = 30_000;
export const CONNECTION_TIMEOUT_MS = 60_000;
/** What a route has to answer, from routing to the last byte; job routes get longer. */
export const HANDLER_TIMEOUT_MS = 30_000;
/** Cloud Scheduler's longest attempt deadline for an HTTP target is 30 minutes. */
export const JOB_HANDLER_TIMEOUT_MS = 30 * 60_000;

/** Headers whose values never reach a log line. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["paynow-signature"]',
  'req.headers["stripe-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-api-key"]',
  'headers["paynow-signature"]',
  'headers["stripe-signature"]',
  "token",
  "secret",
  "password",
  "apiKey",
  "signature",
  "*.token",
  "*.secret",
  "*.password",
  "*.apiKey",
  "*.signature",
  "*.authorization",
  "*.cookie",
];

/** Query parameters whose values are replaced before a URL is logged. */
const SECRET_QUERY = /([?&][^=&]*(?:token|secret|key|signature|password|auth)[^=&]*=)[^&]*/gi;

/** The request as logged: no headers at all, and secret-looking query values masked. */
function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url.replace(SECRET_QUERY, "$1[redacted]"),
    remoteAddress: request.ip,
  };
}

function authServices(options: BuildAppOptions): AuthServices {
  const { oidc, failureLimit } = options.config.auth;
  return {
    ...(oidc ? { oidc: createOidcVerifier(oidc, options.oidcKeys) } : {}),
    failures: new AuthFailureLimiter(failureLimit.maxFailures, failureLimit.windowSeconds * 1000),
  };
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const context: AppContext = {
    db: options.db,
    config: options.config,
    now: options.now ?? (() => new Date()),
    auth: authServices(options),
  };
  const app = Fastify({
    logger: options.log
      ? {
          level: options.config.logLevel,
          redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
          serializers: { req: serializeRequest },
          ...(options.logStream ? { stream: options.logStream } : {}),
        }
      : false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Longer than any valid id, so an over-long one reaches validation and gets its own code.
    routerOptions: { maxParamLength: 1024 },
    // Behind a load balancer, the client address (auth-failure limits, logs) is in X-Forwarded-For.
    trustProxy: (_address: string, hop: number) => hop < options.config.http.trustProxyHops,
    // A client must deliver its whole request within requestTimeout (slow-loris bodies
    // get 408), and an idle socket is closed after connectionTimeout.
    requestTimeout: options.timeouts?.requestMs ?? REQUEST_TIMEOUT_MS,
    connectionTimeout: options.timeouts?.connectionMs ?? CONNECTION_TIMEOUT_MS,
    http: { connectionsCheckingInterval: options.timeouts?.checkIntervalMs ?? 5_000 },
    return503OnClosing: true,
    // Router-level refusals (malformed or over-long URLs) answer in the same error shape,
    // and never echo the URL back.
    frameworkErrors: (error, _request, reply) => {
      const appError = toAppError(error);
      (reply as FastifyReply).code(appError.status).send(appError.toBody());
    },
  });

  // Once, at error level, whichever write met it: the process writes nothing more until it restarts.
  options.db.logSync?.whenTripped((failure) =>
    app.log.error({ err: failure }, "an fsync of the SQLite write-ahead log failed: writes are refused until the process restarts"),
  );
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "internal_error") request.log.error({ err: error }, "request failed");
    const retryAfter = appError.details["retryAfterSeconds"];
    if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
    return reply.code(appError.status).send(appError.toBody());
  });
  app.setNotFoundHandler((_request, reply) => {
    const notFound = new AppError("not_found", "no such route");
    return reply.code(notFound.status).send(notFound.toBody());
  });

  const routes = options.routes ?? ROUTES;
  const jsonRoutes = routes.filter((route) => !route.rawBody);
  const rawRoutes = routes.filter((route) => route.rawBody);
  for (const route of jsonRoutes) register(app, route, context, options);
  await app.register(async (scope) => {
    // Signatures are computed over the exact bytes sent, so these routes never see parsed JSON.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    for (const route of rawRoutes) register(scope, route, context, options);
  });
  await registerAdminPage(app, context);
  return app;
}

/** Each route answers within its handler timeout (503 handler_timeout), slow body included. */
function handlerTimeoutOf(route: RouteDef, options: BuildAppOptions): { handlerTimeout?: number } {
  if (route.timeoutMs === null) return {};
  if (route.timeoutMs !== undefined) return { handlerTimeout: route.timeoutMs };
  if (options.timeouts?.handlerMs !== undefined) return { handlerTimeout: options.timeouts.handlerMs };
  const isJob = route.access !== "public" && route.access.includes("job");
  return { handlerTimeout: isJob ? JOB_HANDLER_TIMEOUT_MS : HANDLER_TIMEOUT_MS };
}

function register(app: FastifyInstance, route: RouteDef, context: AppContext, options: BuildAppOptions): void {
  app.route({
    method: route.method,
    url: route.url,
    bodyLimit: route.bodyLimitBytes ?? BODY_LIMIT_BYTES,
    ...handlerTimeoutOf(route, options),
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await authenticate(request, route.access, context);
      // Signed webhook bodies are stored as bytes whatever they hold; every other input is text.
      if (!route.rawBody) refuseNul(request);
      const answer = await route.handle(request, { ...context, principal });
      if (answer.headers) reply.headers(answer.headers);
      return reply.code(answer.status).send(answer.body);
    },
  });
}

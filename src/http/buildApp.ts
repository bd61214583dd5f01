import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import { authenticate } from "./authenticate.js";
import type { AppContext } from "./context.js";
import { AppError, toAppError } from "./errors.js";
import type { RouteDef } from "./RouteDef.js";
import { ROUTES } from "./routes.js";

export interface BuildAppOptions {
  db: Db;
  config: Config;
  now?: () => Date;
  /** Log requests (pino). Tests leave it off. */
  log?: boolean;
}

/** One megabyte: no legitimate request to Reckon is larger. */
export const BODY_LIMIT_BYTES = 1_048_576;

/** Headers whose values never reach a log line. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["paynow-signature"]',
  'req.headers["stripe-signature"]',
];

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const context: AppContext = { db: options.db, config: options.config, now: options.now ?? (() => new Date()) };
  const app = Fastify({
    logger: options.log ? { level: options.config.logLevel, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } } : false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Longer than any valid id, so an over-long one reaches validation and gets its own code.
    routerOptions: { maxParamLength: 1024 },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
    // Router-level refusals (malformed or over-long URLs) answer in the same error shape,
    // and never echo the URL back.
    frameworkErrors: (error, _request, reply) => {
      const appError = toAppError(error);
      (reply as FastifyReply).code(appError.status).send(appError.toBody());
    },
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "internal_error") request.log.error({ err: error }, "request failed");
    return reply.code(appError.status).send(appError.toBody());
  });
  app.setNotFoundHandler((_request, reply) => {
    const notFound = new AppError("not_found", "no such route");
    return reply.code(notFound.status).send(notFound.toBody());
  });

  const jsonRoutes = ROUTES.filter((route) => !route.rawBody);
  const rawRoutes = ROUTES.filter((route) => route.rawBody);
  for (const route of jsonRoutes) register(app, route, context);
  await app.register(async (scope) => {
    // Signatures are computed over the exact bytes sent, so these routes never see parsed JSON.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    for (const route of rawRoutes) register(scope, route, context);
  });
  return app;
}

function register(app: FastifyInstance, route: RouteDef, context: AppContext): void {
  app.route({
    method: route.method,
    url: route.url,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await authenticate(request, route.access, context);
      const answer = await route.handle(request, { ...context, principal });
      if (answer.headers) reply.headers(answer.headers);
      return reply.code(answer.status).send(answer.body);
    },
  });
}

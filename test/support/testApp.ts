import type { FastifyInstance } from "fastify";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { loadConfig, type Config } from "../../src/config.js";
import { buildApp } from "../../src/http/buildApp.js";
import type { Db } from "../../src/storage/openDatabase.js";

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  serviceToken: string;
  adminToken: string;
  /** Authorization headers for each role. */
  as: { service: { authorization: string }; admin: { authorization: string } };
}

/** The real app over a real database, with one fresh token per role and a fixed clock. */
export async function buildTestApp(
  db: Db,
  options: { env?: Record<string, string>; now?: () => Date } = {},
): Promise<TestApp> {
  const config = loadConfig({ ENVIRONMENT: "test", DATABASE_URL: "file:unused.db", ...options.env });
  const now = new Date("2026-03-01T12:00:00.000Z");
  const service = await createApiToken(db.kysely, { role: "service", name: "test-service", now });
  const admin = await createApiToken(db.kysely, { role: "admin", name: "test-admin", now });
  const app = await buildApp({ db, config, now: options.now ?? (() => now) });
  return {
    app,
    config,
    serviceToken: service.token,
    adminToken: admin.token,
    as: {
      service: { authorization: `Bearer ${service.token}` },
      admin: { authorization: `Bearer ${admin.token}` },
    },
  };
}

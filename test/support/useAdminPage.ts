import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import type { DialectName } from "../../src/storage/openDatabase.js";
import { logIn, type PageSession } from "./adminClient.js";
import { seedAdminPage, type AdminSeed } from "./adminSeed.js";
import { createTestDatabase, type TestDatabase } from "./testDatabase.js";

export interface AdminPageSuite {
  database: TestDatabase;
  seed: AdminSeed;
  app: FastifyInstance;
  /** The seed's admin, logged in through the form. */
  session: PageSession;
}

/**
 * A suite's /admin page: registers a `beforeAll` that seeds a fresh database of `engine`
 * (`seedAdminPage`) and logs the admin in, and an `afterAll` that closes the app and
 * drops the database. The returned suite is filled in before the first test runs.
 */
export function useAdminPage(engine: DialectName): AdminPageSuite {
  const suite = {} as AdminPageSuite;
  beforeAll(async () => {
    suite.database = await createTestDatabase(engine);
    suite.seed = await seedAdminPage(suite.database.db);
    suite.app = suite.seed.harness.app;
    suite.session = await logIn(suite.app, suite.seed.admin);
  });
  afterAll(async () => {
    await suite.app?.close();
    await suite.database?.drop();
  });
  return suite;
}

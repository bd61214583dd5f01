import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from "../../test/support/testDatabase.js";

/**
 * When PostgreSQL ends a connection that a unit of work holds between two statements
 * (the primary killed mid-failover, an administrator's terminate), pg emits 'error' on
 * that client. Unheard, the event crashed every instance of a failover (found by
 * `npm run proof -- --failover`); heard, the unit of work fails and the process lives on.
 */
describe("[postgres] a held connection that the server ends", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("postgres", { poolSize: 2 });
  });
  afterAll(async () => database.drop());

  it("fails its unit of work instead of crashing the process, and the pool goes on", async () => {
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", listener);
    try {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const outcome = await database.db.kysely
        .transaction()
        .execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
          await admin.query("select pg_terminate_backend($1)", [pid]);
          // Between two statements: the server's goodbye arrives with no query to receive it.
          await new Promise((resolveWait) => setTimeout(resolveWait, 300));
          await sql`select 1`.execute(trx);
          return "committed";
        })
        .catch(() => "failed");
      await admin.end();
      expect(outcome).toBe("failed");
      expect(uncaught).toEqual([]);
      const after = await sql<{ n: number }>`select 1 as n`.execute(database.db.kysely);
      expect(after.rows[0]!.n).toBe(1);
    } finally {
      process.off("uncaughtException", listener);
    }
  });
});

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/testDatabase.js";
import { openDatabase } from "./openDatabase.js";
import { readDatabaseUrl } from "./readDatabaseUrl.js";

/** A loopback port nothing listens on: a primary that was just killed. */
function closedPort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 1));
    });
  });
}

describe("a multi-host DATABASE_URL (primary and standby, libpq style)", () => {
  it("is readable and printed with every host and no password", () => {
    const password = randomBytes(9).toString("hex");
    const read = readDatabaseUrl(`postgres://reckon:${password}@10.0.0.1:5432,10.0.0.2:5433/reckon?target_session_attrs=read-write`);
    expect(read).toEqual({ engine: "postgres", inlinePassword: true, masked: "postgres://reckon:***@10.0.0.1:5432,10.0.0.2:5433/reckon?target_session_attrs=read-write" });
  });
});

describe("[postgres] a pool over a multi-host DATABASE_URL", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });
  afterAll(async () => database.drop());

  it("a checkout moves on from a host that refuses connections to the next host, as libpq does", async () => {
    const live = new URL(database.url);
    const url = `postgres://postgres@127.0.0.1:${await closedPort()},${live.host}${live.pathname}?target_session_attrs=read-write`;
    const db = openDatabase(url, { poolSize: 2 });
    try {
      const attempts: string[] = [];
      for (let i = 0; i < 4; i++) {
        try {
          const result = await sql<{ n: number }>`select 1 as n`.execute(db.kysely);
          attempts.push(`ok ${result.rows[0]!.n}`);
        } catch {
          attempts.push("refused");
        }
      }
      // The first checkout meets the dead host and tries the next one; later ones go straight there.
      expect(attempts).toEqual(["ok 1", "ok 1", "ok 1", "ok 1"]);
      const writable = await sql<{ recovery: boolean }>`select pg_is_in_recovery() as recovery`.execute(db.kysely);
      expect(writable.rows[0]!.recovery).toBe(false);
    } finally {
      await db.close();
    }
  });
});

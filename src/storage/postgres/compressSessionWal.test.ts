import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery, createTestDatabase, type TestDatabase } from "../../../test/support/testDatabase.js";
import { openDatabase, type Db } from "../openDatabase.js";
import { SESSION_WAL_COMPRESSION } from "./compressSessionWal.js";

/** What `wal_compression` each of `count` connections of the pool holds at once (all different connections). */
async function settingsOfConnections(db: Db, count: number): Promise<string[]> {
  let arrived = 0;
  let release!: () => void;
  const together = new Promise<void>((resolveTogether) => (release = resolveTogether));
  return Promise.all(
    Array.from({ length: count }, () =>
      db.kysely.transaction().execute(async (trx) => {
        const setting = (await sql<{ wal_compression: string }>`show wal_compression`.execute(trx)).rows[0]!.wal_compression;
        // Each transaction holds its connection until all have read theirs.
        if (++arrived === count) release();
        await together;
        return setting;
      }),
    ),
  );
}

/**
 * A new connection compresses its WAL's full-page images when the role may set
 * `wal_compression` (docs/decisions/webhook-durability.md, "fourth round"); a role that may
 * not is left at the server's setting and works as before; a value an operator set stands.
 */
describe("[postgres] each connection compresses its full-page images when allowed", () => {
  let database: TestDatabase;
  const role = `reckon_wal_${randomBytes(4).toString("hex")}`;
  let roleUrl: string;
  const opened: Db[] = [];
  const openAsRole = () => {
    const db = openDatabase(roleUrl, { poolSize: 3 });
    opened.push(db);
    return db;
  };

  beforeAll(async () => {
    database = await createTestDatabase("postgres", { poolSize: 3 });
    const name = new URL(database.url).pathname.slice(1);
    await adminQuery(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
    await sql.raw(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`).execute(database.db.kysely);
    const url = new URL(database.url);
    url.username = role;
    url.pathname = `/${name}`;
    roleUrl = url.toString();
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    await sql.raw(`DROP OWNED BY ${role}`).execute(database.db.kysely);
    await database.drop();
    await adminQuery(`REVOKE SET ON PARAMETER wal_compression FROM ${role}`).catch(() => undefined);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  it("a role that may set it (here the administrator) gets lz4 on every pooled connection", async () => {
    expect(await settingsOfConnections(database.db, 3)).toEqual([SESSION_WAL_COMPRESSION, SESSION_WAL_COMPRESSION, SESSION_WAL_COMPRESSION]);
  });

  it("a role without the privilege keeps the server's setting, and its writes commit as before", async () => {
    const db = openAsRole();
    expect(await settingsOfConnections(db, 2)).toEqual(["off", "off"]);
    const now = new Date().toISOString();
    await db.kysely.insertInto("wallets").values({ uid: "u_plain", points: 0, version: 0, negative_flagged: 0, created_at: now, updated_at: now }).execute();
    const stored = await database.db.kysely.selectFrom("wallets").select("uid").where("uid", "=", "u_plain").execute();
    expect(stored).toEqual([{ uid: "u_plain" }]);
  });

  it("the same role once granted SET ON PARAMETER wal_compression compresses", async () => {
    await adminQuery(`GRANT SET ON PARAMETER wal_compression TO ${role}`);
    expect(await settingsOfConnections(openAsRole(), 2)).toEqual([SESSION_WAL_COMPRESSION, SESSION_WAL_COMPRESSION]);
  });

  it("an operator's own choice for the role is kept, `off` included", async () => {
    await adminQuery(`ALTER ROLE ${role} SET wal_compression = pglz`);
    expect(await settingsOfConnections(openAsRole(), 2)).toEqual(["pglz", "pglz"]);
    await adminQuery(`ALTER ROLE ${role} SET wal_compression = off`);
    expect(await settingsOfConnections(openAsRole(), 2)).toEqual(["off", "off"]);
  });
});

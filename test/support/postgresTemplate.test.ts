import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { readSchemaState } from "../../src/storage/migrate.js";
import { openDatabase } from "../../src/storage/openDatabase.js";
import { ensureTemplate } from "./postgresTemplate.js";
import { ENGINES, PG_ADMIN_URL } from "./testDatabase.js";

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const databasesLike = (prefix: string) =>
  admin(async (client) => (await client.query("SELECT datname, datistemplate, datallowconn FROM pg_database WHERE datname LIKE $1 ORDER BY datname", [`${prefix}%`])).rows);

describe.runIf(ENGINES.includes("postgres"))("the migrated template test databases are cloned from [postgres]", () => {
  // A name of its own: the suite's real template is never touched.
  const name = `reckon_template_race_${randomBytes(4).toString("hex")}`;
  const clone = `${name}_clone`;
  afterAll(() =>
    admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${clone} WITH (FORCE)`);
      await client.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE false`).catch(() => undefined);
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`DROP DATABASE IF EXISTS ${name}_building WITH (FORCE)`);
    }),
  );

  it("is built once when several callers, each on its own connection, ask at the same moment, over a half-built one a dead builder left, and clones migrated", async () => {
    await admin((client) => client.query(`CREATE DATABASE ${name}_building`));
    await Promise.all(Array.from({ length: 4 }, () => ensureTemplate(PG_ADMIN_URL, name)));

    expect(await databasesLike(name)).toEqual([{ datname: name, datistemplate: true, datallowconn: false }]);
    await admin((client) => client.query(`CREATE DATABASE ${clone} TEMPLATE ${name}`));
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${clone}`;
    const db = openDatabase(url.toString(), { poolSize: 1 });
    try {
      expect(await readSchemaState(db)).toEqual({ reachable: true, migrated: true, environment: "test" });
    } finally {
      await db.close();
    }
  });
});

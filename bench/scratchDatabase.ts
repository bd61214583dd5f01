import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const pgAdmin = process.env.RECKON_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgAdmin });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** An empty database for one benchmark run: a SQLite file in a temporary folder, or a new PostgreSQL database; `drop` removes it. */
export async function scratchDatabase(engine: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "reckon-bench-"));
    return { url: `file:${join(dir, "bench.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  await adminQuery(`CREATE DATABASE ${name}`);
  const parsed = new URL(pgAdmin);
  parsed.pathname = `/${name}`;
  return { url: parsed.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

import { execFile } from "node:child_process";
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { promisify } from "node:util";
import pg from "pg";
import type { DialectName } from "./openDatabase.js";
import { pgToolEnv } from "./pgToolEnv.js";

const run = promisify(execFile);

export type RestoreCopyOutcome = { outcome: "restored" } | { outcome: "target_not_empty"; detail: string } | { outcome: "wrong_engine"; detail: string };

/**
 * Restores a copy made by `copyDatabase` into the database at `targetUrl`. Without
 * `force` the target must be new or empty: a SQLite file that does not exist yet, a
 * PostgreSQL database with no tables (created when it does not exist). With `force`,
 * the SQLite file is replaced whole (copied aside, then renamed over it) and a
 * PostgreSQL database has Reckon's objects dropped and recreated from the dump.
 */
export async function restoreDatabaseCopy(dialect: DialectName, file: string, targetUrl: string, options: { force: boolean; password?: string }): Promise<RestoreCopyOutcome> {
  const targetDialect: DialectName = targetUrl.startsWith("file:") ? "sqlite" : "postgres";
  if (targetDialect !== dialect) return { outcome: "wrong_engine", detail: `a ${dialect} snapshot cannot be restored into a ${targetDialect} database` };
  return dialect === "sqlite" ? restoreSqlite(file, targetUrl.slice("file:".length), options.force) : restorePostgres(file, targetUrl, options);
}

function restoreSqlite(file: string, target: string, force: boolean): RestoreCopyOutcome {
  if (existsSync(target) && statSync(target).size > 0 && !force) {
    return { outcome: "target_not_empty", detail: `${target} exists; restore into a new file, or add --force to replace it` };
  }
  const aside = `${target}.restoring`;
  copyFileSync(file, aside);
  // A journal left by the replaced database would be replayed into the restored one.
  for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(`${target}${suffix}`, { force: true });
  renameSync(aside, target);
  return { outcome: "restored" };
}

async function restorePostgres(file: string, targetUrl: string, options: { force: boolean; password?: string }): Promise<RestoreCopyOutcome> {
  const env = pgToolEnv(targetUrl, options.password);
  await ensureDatabase(targetUrl, options.password);
  const client = new pg.Client({ connectionString: targetUrl, ...(options.password ? { password: options.password } : {}) });
  await client.connect();
  let tables: number;
  try {
    tables = Number((await client.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n);
  } finally {
    await client.end();
  }
  if (tables > 0 && !options.force) {
    return { outcome: "target_not_empty", detail: `the target database holds ${tables} tables; restore into a new database, or add --force to replace them` };
  }
  const args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", ...(tables > 0 ? ["--clean", "--if-exists"] : []), `--dbname=${env.PGDATABASE ?? ""}`, file];
  await run("pg_restore", args, { env });
  return { outcome: "restored" };
}

/** Creates the target database when it does not exist yet, from the same server's `postgres` database. */
async function ensureDatabase(targetUrl: string, password?: string): Promise<void> {
  const name = new URL(targetUrl).pathname.slice(1);
  const admin = new URL(targetUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), ...(password ? { password } : {}) });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Db } from "./openDatabase.js";
import { pgToolEnv } from "./pgToolEnv.js";

const run = promisify(execFile);

/** `backup()`'s most pages per step: every page at once. */
const ALL_PAGES = 0x7fffffff;

/**
 * Writes a consistent copy of a live database to `file` without stopping writers:
 * SQLite through better-sqlite3's online `backup()`, PostgreSQL through `pg_dump -Fc`
 * (one snapshot of the whole database, in pg_restore's custom format).
 *
 * The SQLite backup copies every page in one step, so under one read transaction: it
 * starts over whenever another connection (the server) commits between two steps, and
 * a step of 100 pages at a time, the default, could start over for as long as
 * deliveries flow. In WAL mode that read never blocks the writer.
 */
export async function copyDatabase(db: Db, url: string, file: string, password?: string): Promise<void> {
  if (db.dialect === "sqlite") {
    await db.sqlite!.backup(file, { progress: () => ALL_PAGES });
    return;
  }
  await run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", `--file=${file}`], { env: pgToolEnv(url, password) });
}

/** The file name a copy of this engine gets. */
export function copyExtension(dialect: Db["dialect"]): string {
  return dialect === "sqlite" ? "sqlite" : "dump";
}

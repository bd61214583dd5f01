import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import BetterSqlite3 from "better-sqlite3";
import type { DialectName } from "./openDatabase.js";
import { TABLES } from "./schema.js";

/** What a copy holds, read from the copy itself. */
export interface CopyContents {
  environment: string | null;
  schemaVersion: number;
  rowCounts: Record<string, number>;
}

export type InspectOutcome = { ok: true; contents: CopyContents } | { ok: false; problem: string };

/**
 * Reads a database copy without restoring it: SQLite opened read-only after an
 * integrity check; a PostgreSQL dump streamed through `pg_restore --data-only` to
 * stdout, counting each table's COPY rows. Both give the environment stamp, the
 * latest migration applied and every table's row count.
 */
export async function inspectDatabaseCopy(dialect: DialectName, file: string): Promise<InspectOutcome> {
  return dialect === "sqlite" ? inspectSqlite(file) : inspectDump(file);
}

function inspectSqlite(file: string): InspectOutcome {
  let copy: BetterSqlite3.Database;
  try {
    copy = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    return { ok: false, problem: `not a readable SQLite file: ${(error as Error).message}` };
  }
  try {
    const integrity = copy.prepare("PRAGMA integrity_check").pluck().all() as string[];
    if (integrity.join() !== "ok") return { ok: false, problem: `integrity check: ${integrity.slice(0, 3).join("; ")}` };
    const rowCounts: Record<string, number> = {};
    const present = new Set(copy.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    // A copy made before a later migration lacks that migration's tables; it still counts what it has.
    for (const table of TABLES.filter((name) => present.has(name))) rowCounts[table] = Number(copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
    const environment = (copy.prepare("SELECT value FROM reckon_meta WHERE key = 'environment'").pluck().get() as string | undefined) ?? null;
    const schemaVersion = Number(copy.prepare("SELECT coalesce(max(id), 0) FROM reckon_schema_migrations").pluck().get());
    return { ok: true, contents: { environment, schemaVersion, rowCounts } };
  } catch (error) {
    return { ok: false, problem: `not a Reckon database: ${(error as Error).message}` };
  } finally {
    copy.close();
  }
}

/** `COPY public.wallets (uid, …) FROM stdin;` opens a table's rows; `\.` ends them. */
const COPY_START = /^COPY (?:public\.)?"?([a-z_]+)"? .* FROM stdin;$/;

async function inspectDump(file: string): Promise<InspectOutcome> {
  const child = spawn("pg_restore", ["--data-only", "--file=-", file], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(0, 2_000);
  });
  const rowCounts: Record<string, number> = {};
  let environment: string | null = null;
  let schemaVersion = 0;
  let table: string | null = null;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (table === null) {
      table = COPY_START.exec(line)?.[1] ?? null;
      if (table !== null) rowCounts[table] ??= 0;
      continue;
    }
    if (line === "\\.") {
      table = null;
      continue;
    }
    rowCounts[table] = (rowCounts[table] ?? 0) + 1;
    const columns = line.split("\t");
    if (table === "reckon_meta" && columns[0] === "environment") environment = columns[1] ?? null;
    if (table === "reckon_schema_migrations") schemaVersion = Math.max(schemaVersion, Number(columns[0]));
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("close", resolve)));
  if (code !== 0) return { ok: false, problem: `pg_restore could not read the dump: ${stderr.trim().slice(0, 500)}` };
  return { ok: true, contents: { environment, schemaVersion, rowCounts } };
}

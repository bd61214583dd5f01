import type { DialectName } from "./openDatabase.js";
import { postgresMigrations } from "./migrations/postgres.js";
import { sqliteMigrations } from "./migrations/sqlite.js";

/** The id of the newest migration this code knows for an engine: the schema version it can run. */
export function latestSchemaVersion(dialect: DialectName): number {
  const scripts = dialect === "sqlite" ? sqliteMigrations : postgresMigrations;
  return Math.max(0, ...scripts.map((script) => script.id));
}

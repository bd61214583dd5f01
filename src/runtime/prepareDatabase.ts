import type { Config } from "../config.js";
import { migrate } from "../storage/migrate.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { SchemaVersionError } from "./SchemaVersionError.js";
import { unreachable } from "../unreachable.js";

export class EnvironmentMismatchError extends Error {
  constructor(stamped: string, expected: string, displayUrl: string) {
    super(
      `${displayUrl} belongs to the ${stamped} environment but ENVIRONMENT=${expected}. ` +
        `Point DATABASE_URL at the ${expected} database; environments never share one.`,
    );
    this.name = "EnvironmentMismatchError";
  }
}

/**
 * Opens the configured database, applies pending migrations, and checks its environment
 * stamp and that its schema is not newer than this build; every command goes through here.
 */
export async function prepareDatabase(config: Config): Promise<Db> {
  const { url, ...options } = config.database;
  const db = openDatabase(url, options);
  try {
    const result = await migrate(db, config.environment);
    switch (result.outcome) {
      case "migrated":
        return db;
      case "environment_mismatch":
        throw new EnvironmentMismatchError(result.stamped, result.expected, db.displayUrl);
      case "schema_newer":
      case "schema_diverged":
        throw new SchemaVersionError(result, db.displayUrl);
    }
    return unreachable(result, "migrate outcome");
  } catch (error) {
    await db.close();
    throw error;
  }
}

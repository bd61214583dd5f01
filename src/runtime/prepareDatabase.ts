import type { Config } from "../config.js";
import { migrate } from "../storage/migrate.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";

export class EnvironmentMismatchError extends Error {
  constructor(stamped: string, expected: string, displayUrl: string) {
    super(
      `${displayUrl} belongs to the ${stamped} environment but ENVIRONMENT=${expected}. ` +
        `Point DATABASE_URL at the ${expected} database; environments never share one.`,
    );
    this.name = "EnvironmentMismatchError";
  }
}

/** Opens the configured database, applies pending migrations, and checks its environment stamp. */
export async function prepareDatabase(config: Config): Promise<Db> {
  const { url, ...options } = config.database;
  const db = openDatabase(url, options);
  try {
    const result = await migrate(db, config.environment);
    if (result.outcome === "environment_mismatch") {
      throw new EnvironmentMismatchError(result.stamped, result.expected, db.displayUrl);
    }
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

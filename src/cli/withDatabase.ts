import type { Config } from "../config.js";
import { prepareDatabase } from "../runtime/prepareDatabase.js";
import type { Db } from "../storage/openDatabase.js";

/**
 * How every command reaches the database: prepared as the server prepares it (migrated,
 * its environment checked), handed to `work`, and closed whatever `work` does.
 */
export async function withDatabase<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  const db = await prepareDatabase(config);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

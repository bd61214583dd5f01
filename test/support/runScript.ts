import type { Db } from "../../src/storage/openDatabase.js";

/** Runs a migration's SQL (several statements) the way `migrate` does, on either engine. */
export async function runScript(db: Db, script: string): Promise<void> {
  await db.engine.runScript(db.kysely, script);
}

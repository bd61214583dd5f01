import { copyFileSync, existsSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { migrate } from "../../src/storage/migrate.js";
import { openDatabase } from "../../src/storage/openDatabase.js";
import { migrationsFingerprint } from "./migrationsFingerprint.js";

let template: Promise<string> | undefined;

/**
 * A SQLite file migrated once and stamped `test`, named after the migrations it holds.
 * Built under a name of its own and renamed into place, so a fork never copies a file
 * half migrated and two forks building at once both end with the same whole file.
 */
export function sqliteTemplate(): Promise<string> {
  template ??= (async () => {
    const path = join(tmpdir(), `reckon-template-${migrationsFingerprint("sqlite")}.db`);
    if (existsSync(path)) return path;
    const building = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
    const db = openDatabase(`file:${building}`);
    try {
      const result = await migrate(db, "test");
      if (result.outcome !== "migrated") throw new Error(`template ${building}: ${result.outcome}`);
    } finally {
      // Closing the last connection checkpoints the write-ahead log into the file. The
      // handle is closed itself: Kysely closes it only if a query went through Kysely.
      await db.close();
      db.sqlite!.close();
    }
    renameSync(building, path);
    return path;
  })();
  return template;
}

/** A copy of the migrated template at `path`; much cheaper than migrating (bench:testdb). */
export async function copySqliteTemplate(path: string): Promise<void> {
  copyFileSync(await sqliteTemplate(), path);
}


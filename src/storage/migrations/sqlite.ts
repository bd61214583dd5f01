import type { MigrationScript } from "./MigrationScript.js";
import { loadMigrations } from "./loadMigrations.js";

/**
 * SQLite migrations, one file each in `sqlite/`, append-only: a shipped migration is
 * never edited, a change is a new file with the next number.
 */
export const sqliteMigrations: readonly MigrationScript[] = await loadMigrations(new URL("./sqlite/", import.meta.url));

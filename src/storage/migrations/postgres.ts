import type { MigrationScript } from "./MigrationScript.js";
import { loadMigrations } from "./loadMigrations.js";

/**
 * PostgreSQL migrations, one file each in `postgres/`, mirroring `sqlite/` number for
 * number and name for name; append-only like them.
 */
export const postgresMigrations: readonly MigrationScript[] = await loadMigrations(new URL("./postgres/", import.meta.url));

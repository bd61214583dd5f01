import { readdirSync } from "node:fs";
import type { MigrationScript } from "./MigrationScript.js";

/**
 * `NNNN-name.ts` from source (tsx, vitest), `NNNN-name.js` once built. Anything else in
 * the folder (source maps, a test) is not a migration.
 */
const MIGRATION_FILE = /^(\d{4})-([a-z0-9_]+)\.(?:ts|js)$/;

/**
 * Every migration in `folder`, one per file, in the order of their numbers. Whether the
 * numbers run 1, 2, 3… without a gap, and whether both engines hold the same list, is
 * checked by `migrationFiles.test.ts`, not at start-up.
 */
export async function loadMigrations(folder: URL): Promise<MigrationScript[]> {
  const files = readdirSync(folder)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .sort((a, b) => a.file.localeCompare(b.file));
  const scripts: MigrationScript[] = [];
  for (const { file, match } of files) {
    const module = (await import(new URL(file, folder).href)) as { sql?: unknown };
    if (typeof module.sql !== "string") throw new Error(`migration ${file} must export its SQL as \`sql\``);
    scripts.push({ id: Number(match[1]), name: match[2]!, sql: module.sql });
  }
  return scripts;
}

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { migrationsFor } from "../../src/storage/migrate.js";
import type { DialectName } from "../../src/storage/openDatabase.js";

/**
 * What a migrated template database is made of: every migration of the engine, and the
 * code that applies them and writes their bookkeeping. Any change names a new template,
 * so a stale one is never cloned.
 */
const MIGRATE_SOURCES = ["migrate.ts", "migrationSession.ts", "migrations/legacyIds.ts"].map(
  (file) => new URL(`../../src/storage/${file}`, import.meta.url),
);

/** 16 hex digits of SHA-256 over the engine's migrations and the migrate code. */
export function migrationsFingerprint(engine: DialectName): string {
  const hash = createHash("sha256").update(engine);
  for (const script of migrationsFor({ dialect: engine })) {
    hash.update(`\0${script.id}\0${script.name}\0${script.sql}`);
  }
  for (const source of MIGRATE_SOURCES) hash.update("\0").update(readFileSync(source));
  return hash.digest("hex").slice(0, 16);
}

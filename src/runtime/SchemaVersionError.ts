import type { MigrateOutcome } from "../storage/migrate.js";

type Refusal = Extract<MigrateOutcome, { outcome: "schema_newer" | "schema_diverged" }>;

/**
 * The database's schema is not one this build can run against, so the process stops
 * before serving or writing anything: a rolled-back binary must never run silently on
 * a schema a newer Reckon migrated.
 */
export class SchemaVersionError extends Error {
  readonly code: Refusal["outcome"];
  constructor(refusal: Refusal, displayUrl: string) {
    super(describe(refusal, displayUrl));
    this.name = "SchemaVersionError";
    this.code = refusal.outcome;
  }
}

function describe(refusal: Refusal, displayUrl: string): string {
  if (refusal.outcome === "schema_newer") {
    const unknown = refusal.unknown.map((row) => `${row.id} ${row.name}`).join(", ");
    return (
      `schema_newer: ${displayUrl} was migrated by a newer Reckon (migrations ${unknown}); this build knows ` +
      `migrations up to ${refusal.latestKnown}. Refusing to run an older build against a newer schema; ` +
      `run the newer Reckon or restore a backup taken before it migrated. Nothing was changed.`
    );
  }
  const found = refusal.databaseName === null ? "is missing, yet later ones ran" : `is "${refusal.databaseName}"`;
  return (
    `schema_diverged: ${displayUrl}'s migration history is not this build's: migration ${refusal.id} ${found}, ` +
    `where this build has "${refusal.codeName}". Refusing to migrate or run against it. Nothing was changed.`
  );
}

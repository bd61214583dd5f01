import type { MigrationScript } from "./MigrationScript.js";

/** A row of `reckon_schema_migrations`: a migration the database says it has run. */
export interface AppliedMigration {
  id: number;
  name: string;
}

export type MigrationPlan =
  /** The database ran a prefix of this build's migrations; `pending` are the rest, in order. */
  | { plan: "apply"; pending: MigrationScript[] }
  /**
   * The database ran migrations this build does not know: a newer Reckon migrated it.
   * Running against it could write rows the newer schema forbids or no longer expects.
   */
  | { plan: "newer"; unknown: AppliedMigration[]; latestKnown: number }
  /**
   * The database's history is not this build's: a number with another name, or a
   * migration missing below one that ran. Applying anything could skip or repeat a change.
   */
  | { plan: "diverged"; id: number; databaseName: string | null; codeName: string | null };

/**
 * Compares what the database ran with this build's migrations. Only a database whose
 * history is exactly a prefix of the build's list is migrated; anything else is refused
 * before a statement runs.
 */
export function planMigrations(applied: readonly AppliedMigration[], scripts: readonly MigrationScript[]): MigrationPlan {
  const latestKnown = scripts.at(-1)?.id ?? 0;
  const sorted = [...applied].sort((a, b) => a.id - b.id);
  const known = sorted.filter((row) => row.id <= latestKnown);
  const unknown = sorted.filter((row) => row.id > latestKnown);
  for (const [index, script] of scripts.entries()) {
    const row = known[index];
    if (row === undefined) {
      // A newer database must have run every migration this build knows.
      if (unknown.length > 0) return { plan: "diverged", id: script.id, databaseName: null, codeName: script.name };
      return { plan: "apply", pending: scripts.slice(index) };
    }
    if (row.id !== script.id) return { plan: "diverged", id: script.id, databaseName: null, codeName: script.name };
    if (row.name !== script.name) return { plan: "diverged", id: row.id, databaseName: row.name, codeName: script.name };
  }
  if (unknown.length > 0) return { plan: "newer", unknown, latestKnown };
  return { plan: "apply", pending: [] };
}

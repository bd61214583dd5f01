import type { MigrationScript } from "./MigrationScript.js";
import type { MigrationSession } from "../migrationSession.js";

/**
 * The ids builds before the renumbering recorded (they skipped 4, which never shipped),
 * for the migrations whose id changed. A database those builds migrated is carried over
 * by renaming its rows, never by running anything again; see
 * docs/decisions/migration-numbering.md. Frozen: no migration is ever added here.
 */
export const LEGACY_IDS: readonly { name: string; legacyId: number }[] = [
  { name: "backfill_runs", legacyId: 5 },
  { name: "ledger_guards", legacyId: 6 },
  { name: "reconciliation_refusals_signatures_heal_claims", legacyId: 7 },
  { name: "raw_body_bytes", legacyId: 8 },
  { name: "backfill_leases", legacyId: 9 },
  { name: "won_chargebacks_recorded", legacyId: 10 },
];

/**
 * Moves rows recorded under a legacy id to the id the migration has now, matching id
 * and name together, lowest first so each target id is free when it is taken. On a
 * database the current numbering migrated no row matches. Returns how many moved.
 */
export async function carryOverLegacyIds(session: MigrationSession, scripts: readonly MigrationScript[]): Promise<number> {
  let moved = 0;
  for (const { name, legacyId } of LEGACY_IDS) {
    const current = scripts.find((script) => script.name === name);
    if (!current) throw new Error(`legacy migration ${name} is missing from this build`);
    moved += await session.run("UPDATE reckon_schema_migrations SET id = ? WHERE id = ? AND name = ?", [current.id, legacyId, name]);
  }
  return moved;
}

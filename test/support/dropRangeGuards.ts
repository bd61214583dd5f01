import { sql } from "kysely";
import type { Db } from "../../src/storage/openDatabase.js";

/**
 * Removes the schema's range guards on wallets and entries (migration 5), leaving the
 * append-only and reference rules. It stands for the databases reconciliation must
 * still read exactly: rows written before the guards existed (PostgreSQL keeps them,
 * the constraints are NOT VALID) or a tool that dropped them.
 */
export async function dropRangeGuards(db: Db): Promise<void> {
  if (db.dialect === "postgres") {
    await sql`ALTER TABLE wallets DROP CONSTRAINT wallets_points_in_range`.execute(db.kysely);
    await sql`ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_amounts_in_range`.execute(db.kysely);
    return;
  }
  for (const trigger of ["wallets_points_in_range_insert", "wallets_points_in_range_update", "ledger_entries_in_range"]) {
    await sql.raw(`DROP TRIGGER ${trigger}`).execute(db.kysely);
  }
}

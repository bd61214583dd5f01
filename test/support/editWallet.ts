import { sql } from "kysely";
import type { Db } from "../../src/storage/openDatabase.js";

/** Moves a wallet by `by` points behind the ledger's back, as a manual database edit would. */
export async function editWallet(db: Db, uid: string, by: number): Promise<void> {
  await sql`UPDATE wallets SET points = points + ${by} WHERE uid = ${uid}`.execute(db.kysely);
}

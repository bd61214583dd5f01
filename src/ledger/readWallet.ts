import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { toEntry, toWallet, type Entry, type Wallet } from "./types.js";

export interface WalletView extends Wallet {
  lastEntries: Entry[];
}

/** A wallet with its newest entries, or null for a user who has never had one. */
export async function readWallet(db: Kysely<Schema>, uid: string, lastEntries = 10): Promise<WalletView | null> {
  const wallet = await db.selectFrom("wallets").selectAll().where("uid", "=", uid).executeTakeFirst();
  if (!wallet) return null;
  const entries = await db
    .selectFrom("ledger_entries")
    .selectAll()
    .where("uid", "=", uid)
    .orderBy("id", "desc")
    .limit(lastEntries)
    .execute();
  return { ...toWallet(wallet), lastEntries: entries.map(toEntry) };
}

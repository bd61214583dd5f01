import { sql, type Selectable } from "kysely";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { WebhookPurchasesTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";

/**
 * Serialises everything that touches one purchase reference for the rest of `trx`.
 * On PostgreSQL a refund parking itself and the purchase landing in two concurrent
 * transactions would otherwise miss each other (the purchase's look for parked
 * events cannot see the uncommitted park). SQLite has one writer, so nothing to do.
 */
export async function lockPurchaseRef(trx: Trx, ref: string): Promise<void> {
  await lockPurchaseRefs(trx, [ref]);
}

/**
 * `lockPurchaseRef` for many references in one statement, taken in sorted order so
 * that two batches with overlapping references wait for each other instead of deadlocking.
 */
export async function lockPurchaseRefs(trx: Trx, refs: readonly string[]): Promise<void> {
  if (!capabilitiesOf(trx).rowLocks || refs.length === 0) return;
  const sorted = [...new Set(refs)].sort();
  await sql`select pg_advisory_xact_lock(hashtextextended(ref, 0)) from unnest(cast(${sorted} as text[])) as refs(ref)`.execute(trx);
}

export async function findPurchase(trx: Trx, ref: string): Promise<Selectable<WebhookPurchasesTable> | undefined> {
  return trx.selectFrom("webhook_purchases").selectAll().where("purchase_ref", "=", ref).executeTakeFirst();
}

/** Points of an entry not yet reversed: its amount plus every entry that references it. */
export async function remainingPoints(trx: Trx, entryId: number): Promise<number> {
  const original = await trx.selectFrom("ledger_entries").select("amount").where("id", "=", entryId).executeTakeFirstOrThrow();
  const reversed = await trx
    .selectFrom("ledger_entries")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("amount"), eb.lit(0)).as("total"))
    .where("reverses_entry_id", "=", entryId)
    .executeTakeFirstOrThrow();
  return original.amount + Number(reversed.total);
}

import { sql, type Selectable } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
import type { WebhookPurchasesTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import type { PurchaseTree } from "./planReversal.js";
import type { RecordedCause } from "./reversalTarget.js";

/**
 * Serialises everything that touches one purchase reference for the rest of `trx`.
 * With concurrent writers a refund parking itself and the purchase landing in two
 * transactions would otherwise miss each other (the purchase's look for parked events
 * cannot see the uncommitted park); a single-writer engine has nothing to do.
 */
export async function lockPurchaseRef(trx: Trx, ref: string): Promise<void> {
  await lockPurchaseRefs(trx, [ref]);
}

/**
 * `lockPurchaseRef` for many references in one statement, taken in sorted order so
 * that two batches with overlapping references wait for each other instead of deadlocking.
 */
export async function lockPurchaseRefs(trx: Trx, refs: readonly string[]): Promise<void> {
  await engineOf(trx).lockNames(trx, refs);
}

export async function findPurchase(trx: Trx, ref: string): Promise<Selectable<WebhookPurchasesTable> | undefined> {
  return trx.selectFrom("webhook_purchases").selectAll().where("purchase_ref", "=", ref).executeTakeFirst();
}

/** Every refund and chargeback phase recorded against the purchase whose entry is `entryId`, under any of its references. */
export async function readRecordedCauses(trx: Trx, entryId: number): Promise<{ causes: RecordedCause[]; writtenOff: number }> {
  const rows = await trx
    .selectFrom("webhook_reversals as r")
    .innerJoin("webhook_purchases as p", "p.purchase_ref", "r.purchase_ref")
    .select(["r.reversal_key", "r.kind", "r.refunded_minor", "r.chargeback_key", "r.shortfall"])
    .where("p.entry_id", "=", entryId)
    .execute();
  return {
    causes: rows.map((row) => ({ kind: row.kind, key: row.reversal_key, refundedMinor: row.refunded_minor, chargebackKey: row.chargeback_key })),
    // Each row holds the change it made to the written-off points; their sum is what is written off now.
    writtenOff: rows.reduce((sum, row) => sum + row.shortfall, 0),
  };
}

/** The purchase entry and every entry below it (reversals, reinstatements, their reversals…), in id order. */
export async function readPurchaseTree(trx: Trx, purchase: { entry_id: number; points: number }): Promise<PurchaseTree> {
  const { rows } = await sql<{ id: number; amount: number; source: string; reverses_entry_id: number }>`
    with recursive below(id) as (
      select id from ledger_entries where reverses_entry_id = ${purchase.entry_id}
      union all
      select e.id from ledger_entries e join below on e.reverses_entry_id = below.id
    )
    select e.id, e.amount, e.source, e.reverses_entry_id from ledger_entries e join below on below.id = e.id order by e.id`.execute(trx);
  return {
    purchaseEntryId: purchase.entry_id,
    points: purchase.points,
    entries: rows.map((row) => ({ id: Number(row.id), amount: Number(row.amount), source: row.source, reversesEntryId: Number(row.reverses_entry_id) })),
  };
}

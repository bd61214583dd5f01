import type { Selectable } from "kysely";
import { recordAudit } from "../audit/recordAudit.js";
import { postEntry } from "../ledger/postEntry.js";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { WebhookPurchasesTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext } from "./ApplyResult.js";
import { remainingPoints } from "./purchaseRecords.js";

export interface Reversed {
  /** The reversal entry, or null when nothing was left to reverse (or clamp left nothing). */
  entryId: number | null;
  /** Points not reversed because the wallet did not hold them (REVERSAL_POLICY=clamp). */
  shortfall: number;
}

/**
 * Reverses up to `points` of a purchase with a `reversal` entry under `key`. Never more
 * than what remains of the purchase. Under `clamp`, never more than the wallet holds:
 * the rest is the shortfall, written to the audit log.
 */
export async function reversePurchase(
  trx: Trx,
  purchase: Selectable<WebhookPurchasesTable>,
  points: number,
  key: string,
  context: ApplyContext,
): Promise<Reversed> {
  let amount = Math.min(points, await remainingPoints(trx, purchase.entry_id));
  let shortfall = 0;
  if (context.reversalPolicy === "clamp" && amount > 0) {
    const available = Math.max(0, await lockedBalance(trx, purchase.uid));
    shortfall = Math.max(0, amount - available);
    amount -= shortfall;
  }
  if (shortfall > 0) {
    await recordAudit(trx, {
      actor: "webhook",
      action: "webhook.reversal_clamped",
      subject: purchase.uid,
      details: { key, purchaseRef: purchase.purchase_ref, reversed: amount, shortfall, cause: context.sourceRef },
      now: context.now,
    });
  }
  if (amount <= 0) return { entryId: null, shortfall };
  const result = await postEntry(trx, {
    uid: purchase.uid,
    kind: "reversal",
    amount: -amount,
    idempotencyKey: key,
    reversesEntryId: purchase.entry_id,
    source: "webhook",
    sourceRef: context.sourceRef,
    belowZero: context.reversalPolicy === "clamp" ? "clamp" : "allow",
    now: context.now,
  });
  if (result.outcome === "posted" || result.outcome === "duplicate") return { entryId: result.entry.id, shortfall };
  throw new Error(`reversal ${key} refused by the ledger: ${result.outcome}`);
}

/** Whether the refund or chargeback `key` was already reversed (it has its record). */
export async function reversalRecorded(trx: Trx, key: string): Promise<boolean> {
  const seen = await trx.selectFrom("webhook_reversals").select("reversal_key").where("reversal_key", "=", key).executeTakeFirst();
  return seen !== undefined;
}

/**
 * Reverses up to `points` of a purchase under `key` and records the reversal with what
 * caused it, so the same refund or chargeback is never reversed twice.
 */
export async function reverseAndRecord(
  trx: Trx,
  purchase: Selectable<WebhookPurchasesTable>,
  cause: { key: string; kind: "refund" | "chargeback"; refundedMinor: number; points: number },
  context: ApplyContext,
): Promise<void> {
  const reversed = await reversePurchase(trx, purchase, cause.points, cause.key, context);
  await trx
    .insertInto("webhook_reversals")
    .values({
      reversal_key: cause.key,
      purchase_ref: purchase.purchase_ref,
      kind: cause.kind,
      refunded_minor: cause.refundedMinor,
      points: cause.points,
      shortfall: reversed.shortfall,
      entry_id: reversed.entryId,
      created_at: context.now.toISOString(),
    })
    .execute();
}

async function lockedBalance(trx: Trx, uid: string): Promise<number> {
  let query = trx.selectFrom("wallets").select("points").where("uid", "=", uid);
  if (capabilitiesOf(trx).rowLocks) query = query.forUpdate();
  const wallet = await query.executeTakeFirst();
  return wallet?.points ?? 0;
}

import type { Selectable } from "kysely";
import { recordAudit } from "../audit/recordAudit.js";
import { lockWallets } from "../ledger/lockWallets.js";
import { postEntry } from "../ledger/postEntry.js";
import type { WebhookPurchasesTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext } from "./ApplyResult.js";
import { measureTree, planReversal, type PlannedEntry } from "./planReversal.js";
import { readPurchaseTree, readRecordedCauses } from "./purchaseRecords.js";
import { reversalTarget, type RecordedCause } from "./reversalTarget.js";
import { unreachable } from "../unreachable.js";

type Purchase = Selectable<WebhookPurchasesTable>;

/** A refund or chargeback phase, about to be recorded against its purchase. */
export type ReversalCause =
  | { kind: "refund"; key: string; refundedMinor: number }
  | { kind: "chargeback"; key: string }
  | { kind: "chargeback_won"; key: string; chargebackKey: string };

/** Whether the refund or chargeback phase `key` was already recorded (applied once, even for zero points). */
export async function reversalRecorded(trx: Trx, key: string): Promise<boolean> {
  const seen = await trx.selectFrom("webhook_reversals").select("reversal_key").where("reversal_key", "=", key).executeTakeFirst();
  return seen !== undefined;
}

/**
 * Records `cause` against the purchase and brings the purchase to what its recorded causes
 * ask for, whatever order they arrived in: the target is recomputed from the whole set
 * (`reversalTarget`), compared with what the ledger shows the webhook side holds reversed
 * plus what was written off, and only the difference is posted, as reversals when short
 * or reinstatements when over (docs/decisions/reversals-converge.md).
 *
 * The caller holds the purchase reference's lock and has checked `reversalRecorded`.
 */
export async function reversePurchase(trx: Trx, purchase: Purchase, cause: ReversalCause, context: ApplyContext): Promise<void> {
  // Locking the wallet first serialises this with every other writer of this user's
  // entries, an admin restoring part of a reversal included, so the tree read below is current.
  const walletPoints = await lockedBalance(trx, purchase.uid);
  const recorded = await readRecordedCauses(trx, purchase.entry_id);
  const target = reversalTarget({ points: purchase.points, paidMinor: purchase.paid_minor }, [...recorded.causes, recordedOf(cause)]);
  const tree = await readPurchaseTree(trx, purchase);
  const measure = measureTree(tree);
  // What an admin reversed from the purchase itself stays reversed; webhooks never take past it.
  const goal = Math.max(0, Math.min(target, purchase.points - measure.manualReversed));
  const change = goal - measure.webhookReversed - recorded.writtenOff;
  const move = change >= 0 ? takeBack(change, walletPoints, context) : giveBack(-change, recorded.writtenOff);

  const firstEntryId = await postPlanned(trx, purchase, cause.key, planReversal(tree, move.ledgerPoints), context);
  if (move.writtenOff > 0) {
    await recordAudit(trx, {
      actor: "webhook",
      action: "webhook.reversal_clamped",
      subject: purchase.uid,
      details: { key: cause.key, purchaseRef: purchase.purchase_ref, reversed: move.ledgerPoints, shortfall: move.writtenOff, cause: context.sourceRef },
      now: context.now,
    });
  }
  await trx
    .insertInto("webhook_reversals")
    .values({
      reversal_key: cause.key,
      purchase_ref: purchase.purchase_ref,
      kind: cause.kind,
      refunded_minor: cause.kind === "refund" ? cause.refundedMinor : 0,
      points: change,
      shortfall: move.writtenOff,
      entry_id: firstEntryId,
      created_at: context.now.toISOString(),
      chargeback_key: cause.kind === "chargeback_won" ? cause.chargebackKey : null,
    })
    .execute();
}

function recordedOf(cause: ReversalCause): RecordedCause {
  switch (cause.kind) {
    case "refund":
      return { kind: "refund", key: cause.key, refundedMinor: cause.refundedMinor, chargebackKey: null };
    case "chargeback":
      return { kind: "chargeback", key: cause.key, refundedMinor: 0, chargebackKey: null };
    case "chargeback_won":
      return { kind: "chargeback_won", key: cause.key, refundedMinor: 0, chargebackKey: cause.chargebackKey };
  }
  return unreachable(cause, "reversal cause");
}

/** Points to move in the ledger (positive reverses, negative restores) and the change of what is written off. */
interface Move {
  ledgerPoints: number;
  writtenOff: number;
}

/** Reversing `points`: all of them, or under `clamp` what the wallet holds, the rest written off. */
function takeBack(points: number, walletPoints: number, context: ApplyContext): Move {
  if (context.reversalPolicy !== "clamp") return { ledgerPoints: points, writtenOff: 0 };
  const taken = Math.min(points, Math.max(0, walletPoints));
  return { ledgerPoints: taken, writtenOff: points - taken };
}

/** Restoring `points`: what was written off is no longer owed first, then real points come back. */
function giveBack(points: number, writtenOff: number): Move {
  const cancelled = Math.min(points, Math.max(0, writtenOff));
  return { ledgerPoints: -(points - cancelled), writtenOff: -cancelled };
}

/**
 * Posts the planned entries under the cause's key (`key`, then `key:2`, `key:3`…); the
 * cause is recorded in the same transaction, so none of these keys can exist yet.
 * Returns the first entry's id, or null when nothing was posted.
 */
async function postPlanned(trx: Trx, purchase: Purchase, key: string, planned: readonly PlannedEntry[], context: ApplyContext): Promise<number | null> {
  let firstEntryId: number | null = null;
  for (const [index, entry] of planned.entries()) {
    const idempotencyKey = index === 0 ? key : `${key}:${index + 1}`;
    const result = await postEntry(trx, {
      uid: purchase.uid,
      kind: entry.kind,
      amount: entry.amount,
      idempotencyKey,
      reversesEntryId: entry.reversesEntryId,
      source: "webhook",
      sourceRef: context.sourceRef,
      now: context.now,
    });
    if (result.outcome !== "posted") throw new Error(`${entry.kind} ${idempotencyKey} refused by the ledger: ${result.outcome}`);
    firstEntryId ??= result.entry.id;
  }
  return firstEntryId;
}

async function lockedBalance(trx: Trx, uid: string): Promise<number> {
  const wallet = await lockWallets(trx, [uid]).select("points").executeTakeFirst();
  return wallet?.points ?? 0;
}

import { postEntry } from "../ledger/postEntry.js";
import type { PaymentEvent } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext, ApplyResult } from "./ApplyResult.js";
import { findPurchase, lockPurchaseRef, remainingPoints } from "./purchaseRecords.js";
import { reversalRecorded, reverseAndRecord } from "./reversePurchase.js";

type ChargebackEvent = Extract<PaymentEvent, { kind: "chargeback" }>;
type ChargebackWonEvent = Extract<PaymentEvent, { kind: "chargeback_won" }>;

/** Reverses what remains of the purchase, once per chargeback. */
export async function applyChargeback(trx: Trx, event: ChargebackEvent, context: ApplyContext): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  if (await reversalRecorded(trx, event.reversalKey)) return { status: "processed", landed: [event.reversalKey] };
  const points = Math.max(0, await remainingPoints(trx, purchase.entry_id));
  await reverseAndRecord(trx, purchase, { key: event.reversalKey, kind: "chargeback", refundedMinor: 0, points }, context);
  return { status: "processed", landed: [event.reversalKey] };
}

/**
 * Restores what the chargeback reversed with a `reinstatement` entry. Waits (parked)
 * for the purchase and for the chargeback itself when they have not arrived yet.
 */
export async function applyChargebackWon(
  trx: Trx,
  event: ChargebackWonEvent,
  context: ApplyContext,
): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  const chargeback = await trx
    .selectFrom("webhook_reversals")
    .select("entry_id")
    .where("reversal_key", "=", event.reversalKey)
    .executeTakeFirst();
  if (!chargeback) return { status: "parked", waitingFor: event.reversalKey };
  if (chargeback.entry_id === null) return { status: "processed", landed: [] };
  const reversal = await trx
    .selectFrom("ledger_entries")
    .select(["id", "amount"])
    .where("id", "=", chargeback.entry_id)
    .executeTakeFirstOrThrow();
  const result = await postEntry(trx, {
    uid: purchase.uid,
    kind: "reinstatement",
    amount: -reversal.amount,
    idempotencyKey: event.reinstatementKey,
    reversesEntryId: reversal.id,
    source: "webhook",
    sourceRef: context.sourceRef,
    now: context.now,
  });
  switch (result.outcome) {
    case "posted":
    case "duplicate":
      return { status: "processed", landed: [] };
    case "conflict":
      return { status: "failed", reason: "ledger_conflict", detail: `${event.reinstatementKey} was posted with other content` };
    default:
      throw new Error(`reinstatement ${event.reinstatementKey} refused by the ledger: ${result.outcome}`);
  }
}

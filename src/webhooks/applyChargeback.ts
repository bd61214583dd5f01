import type { PaymentEvent } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyContext, ApplyResult } from "./ApplyResult.js";
import { findPurchase, lockPurchaseRef } from "./purchaseRecords.js";
import { reversalRecorded, reversePurchase } from "./reversePurchase.js";

type ChargebackEvent = Extract<PaymentEvent, { kind: "chargeback" }>;
type ChargebackWonEvent = Extract<PaymentEvent, { kind: "chargeback_won" }>;

/** Records the chargeback once; unless it was already won, the purchase then stands wholly reversed. */
export async function applyChargeback(trx: Trx, event: ChargebackEvent, context: ApplyContext): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  if (!(await reversalRecorded(trx, event.reversalKey))) {
    await reversePurchase(trx, purchase, { kind: "chargeback", key: event.reversalKey }, context);
  }
  // A won chargeback parked on this key by an earlier version is released by it.
  return { status: "processed", landed: [event.reversalKey] };
}

/**
 * Records that the chargeback `event.reversalKey` was won, once; the purchase then keeps
 * everything its refunds leave it. It waits (parked) only for the purchase: a won that
 * arrives before its chargeback is recorded, and the chargeback then takes nothing.
 */
export async function applyChargebackWon(trx: Trx, event: ChargebackWonEvent, context: ApplyContext): Promise<ApplyResult> {
  await lockPurchaseRef(trx, event.purchaseRef);
  const purchase = await findPurchase(trx, event.purchaseRef);
  if (!purchase) return { status: "parked", waitingFor: event.purchaseRef };
  if (!(await reversalRecorded(trx, event.reinstatementKey))) {
    await reversePurchase(trx, purchase, { kind: "chargeback_won", key: event.reinstatementKey, chargebackKey: event.reversalKey }, context);
  }
  return { status: "processed", landed: [] };
}

import { readDelivery } from "./readDelivery.js";

/**
 * The independent model: from what Reckon ACKed (deliveries with a 2xx, spends and
 * admin operations with a 201) and the out-of-band edits the proof made, what every
 * wallet must hold. It imports nothing from Reckon; its rules are the product's stated
 * rules, written again:
 *
 * - a purchase credits Σ points-per-unit × quantity, once per purchase, however often delivered;
 * - each refund (by its id) and chargeback (by its id) counts once; the purchase then stands at
 *   P − reversed, where reversed = P while a chargeback has no win, else
 *   floor(P × min(Σ refunded, paid) / paid) when anything was refunded (all of P for a free
 *   purchase), else 0 — whatever order they arrived in;
 * - a 201 spend takes its amount once per Idempotency-Key; an adjustment adds its amount; a
 *   reversal of an adjustment takes it back;
 * - an out-of-band edit moves the wallet and nothing else (reconciliation heals the ledger to it).
 */
export interface ModelInput {
  catalogue: (provider: string, productId: string) => number | undefined;
  deliveries: { provider: "paynow" | "stripe"; body: string }[];
  spends: { uid: string; amount: number }[];
  adjustments: { uid: string; amount: number }[];
  reversedAdjustments: { uid: string; amount: number }[];
  drifts: { uid: string; points: number }[];
}

export interface PurchaseModel {
  uid: string;
  points: bigint;
  paidMinor: bigint;
  refunds: Map<string, bigint>;
  chargebacks: Set<string>;
  won: Set<string>;
}

export interface ModelResult {
  /** Points every user must hold. */
  wallets: Map<string, bigint>;
  /** Σ purchase credits per user, and how many purchases. */
  purchases: Map<string, { count: number; points: bigint }>;
  /** Σ out-of-band drift per user and how many edits: what heals must explain exactly. */
  drift: Map<string, { points: bigint; edits: number }>;
  /** Refunds or chargebacks whose purchase was never ACKed (they must stay parked). */
  orphans: number;
}

export function reversedPoints(purchase: PurchaseModel): bigint {
  const open = [...purchase.chargebacks].some((key) => !purchase.won.has(key));
  if (open) return purchase.points;
  if (purchase.refunds.size === 0) return 0n;
  if (purchase.paidMinor === 0n) return purchase.points;
  let refunded = 0n;
  for (const amount of purchase.refunds.values()) refunded += amount;
  if (refunded > purchase.paidMinor) refunded = purchase.paidMinor;
  return (purchase.points * refunded) / purchase.paidMinor;
}

export function expectedWallets(input: ModelInput): ModelResult {
  const purchases = new Map<string, PurchaseModel>();
  const refunds: { ref: string; key: string; amount: bigint }[] = [];
  const chargebacks: { ref: string; key: string; won: boolean }[] = [];
  for (const delivery of input.deliveries) {
    const fact = readDelivery(delivery.provider, delivery.body);
    if (fact.fact === "purchase" && !purchases.has(fact.ref)) {
      let points = 0n;
      for (const line of fact.lines) {
        const perUnit = input.catalogue(delivery.provider, line.productId);
        if (perUnit === undefined) throw new Error(`the proof sold ${line.productId}, which is not in its catalogue`);
        points += BigInt(perUnit) * BigInt(line.quantity);
      }
      purchases.set(fact.ref, { uid: fact.uid, points, paidMinor: fact.paidMinor, refunds: new Map(), chargebacks: new Set(), won: new Set() });
    } else if (fact.fact === "refund") refunds.push({ ref: fact.ref, key: fact.refundKey, amount: fact.refundedMinor });
    else if (fact.fact === "chargeback" || fact.fact === "chargeback_won") chargebacks.push({ ref: fact.ref, key: fact.chargebackKey, won: fact.fact === "chargeback_won" });
  }
  let orphans = 0;
  for (const refund of refunds) {
    const purchase = purchases.get(refund.ref);
    if (!purchase) orphans++;
    // A refund delivered twice (or by two event types) carries the same amount under one id.
    else purchase.refunds.set(refund.key, refund.amount);
  }
  for (const chargeback of chargebacks) {
    const purchase = purchases.get(chargeback.ref);
    if (!purchase) orphans++;
    else if (chargeback.won) purchase.won.add(chargeback.key);
    else purchase.chargebacks.add(chargeback.key);
  }
  const wallets = new Map<string, bigint>();
  const add = (uid: string, points: bigint) => wallets.set(uid, (wallets.get(uid) ?? 0n) + points);
  const credited = new Map<string, { count: number; points: bigint }>();
  for (const purchase of purchases.values()) {
    add(purchase.uid, purchase.points - reversedPoints(purchase));
    const before = credited.get(purchase.uid) ?? { count: 0, points: 0n };
    credited.set(purchase.uid, { count: before.count + 1, points: before.points + purchase.points });
  }
  for (const spend of input.spends) add(spend.uid, -BigInt(spend.amount));
  for (const adjustment of input.adjustments) add(adjustment.uid, BigInt(adjustment.amount));
  for (const reversal of input.reversedAdjustments) add(reversal.uid, -BigInt(reversal.amount));
  const drift = new Map<string, { points: bigint; edits: number }>();
  for (const edit of input.drifts) {
    add(edit.uid, BigInt(edit.points));
    const before = drift.get(edit.uid) ?? { points: 0n, edits: 0 };
    drift.set(edit.uid, { points: before.points + BigInt(edit.points), edits: before.edits + 1 });
  }
  return { wallets, purchases: credited, drift, orphans };
}

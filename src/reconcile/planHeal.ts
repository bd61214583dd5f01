import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import { unreachable } from "../unreachable.js";

/**
 * The pure decision of a heal. An *observation* is one user's wallet next to the sum
 * and count of their entries, read in one consistent state, every figure exact; the
 * plan says what the policy does about the drift (`wallet.points - ledgerSum`). No
 * I/O, no clock.
 */

export const HEAL_POLICIES = ["adjust_ledger", "restore_wallet", "report_only"] as const;
export type HealPolicy = (typeof HEAL_POLICIES)[number];

export interface Observation {
  uid: string;
  walletPoints: number;
  walletVersion: number;
  ledgerSum: number;
  ledgerCount: number;
}

/**
 * Why a drifted user was not healed (the `reason` of a `refused` line):
 * - `exceeds_entry_limit`: adjust_ledger would need one entry above the ledger's per-entry maximum;
 * - `out_of_exact_range`: the wallet, the sum or the drift is past 2^53 - 1 in magnitude;
 * - `ledger_refused`: the ledger answered the heal with a refusal (the detail names it);
 * - `heal_failed`: writing the heal failed in the database (the detail carries the error).
 */
export const REFUSAL_REASONS = ["exceeds_entry_limit", "out_of_exact_range", "ledger_refused", "heal_failed"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type HealPlan =
  /** The invariant holds: nothing to do. */
  | { action: "ok"; delta: 0 }
  /** report_only: the drift is written in the report and left as it is. */
  | { action: "reported"; delta: number }
  /** adjust_ledger: one reconcile_adjustment entry of `delta`; the wallet does not move. */
  | { action: "adjust"; delta: number; amount: number; idempotencyKey: string }
  /** restore_wallet: the wallet is set to the ledger's sum; no entry is written. */
  | { action: "restore"; delta: number; points: number }
  /** The policy's heal cannot be written; the report says why and the drift stays for an operator. */
  | { action: "refuse"; delta: number; reason: RefusalReason; detail: string };

/** The ledger key of an adjust_ledger heal (the claim in `reconciliation_heals` is what makes it once per date). */
export function healKey(date: string, uid: string): string {
  return `reconcile:${date}:${uid}`;
}

export function driftOf(observation: Observation): number {
  return observation.walletPoints - observation.ledgerSum;
}

export function planHeal(observation: Observation, policy: HealPolicy, date: string): HealPlan {
  const delta = driftOf(observation);
  if (delta === 0) return { action: "ok", delta: 0 };
  switch (policy) {
    case "report_only":
      return { action: "reported", delta };
    case "adjust_ledger":
      if (Math.abs(delta) > MAX_ENTRY_POINTS) {
        return { action: "refuse", delta, reason: "exceeds_entry_limit", detail: `drift ${delta} is more than one entry may move (${MAX_ENTRY_POINTS}); not healed` };
      }
      return { action: "adjust", delta, amount: delta, idempotencyKey: healKey(date, observation.uid) };
    case "restore_wallet":
      return { action: "restore", delta, points: observation.ledgerSum };
  }
  return unreachable(policy, "heal policy");
}

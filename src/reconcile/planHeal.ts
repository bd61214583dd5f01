/**
 * The pure decision of a heal. An *observation* is one user's wallet next to the sum
 * and count of their entries, read in one consistent state; the plan says what the
 * policy does about the drift (`wallet.points - ledgerSum`). No I/O, no clock.
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

export type HealPlan =
  /** The invariant holds: nothing to do. */
  | { action: "ok"; delta: 0 }
  /** report_only: the drift is written in the report and left as it is. */
  | { action: "reported"; delta: number }
  /** adjust_ledger: one reconcile_adjustment entry of `delta`; the wallet does not move. */
  | { action: "adjust"; delta: number; amount: number; idempotencyKey: string }
  /** restore_wallet: the wallet is set to the ledger's sum; no entry is written. */
  | { action: "restore"; delta: number; points: number; idempotencyKey: string };

/** The key that makes a heal happen at most once per date and user. */
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
      return { action: "adjust", delta, amount: delta, idempotencyKey: healKey(date, observation.uid) };
    case "restore_wallet":
      return { action: "restore", delta, points: observation.ledgerSum, idempotencyKey: healKey(date, observation.uid) };
    default: {
      const never: never = policy;
      throw new Error(`unknown heal policy ${JSON.stringify(never)}`);
    }
  }
}

/** Two reads of one user describe the same state: a heal planned on the first still holds. */
export function sameObservation(a: Observation, b: Observation): boolean {
  return (
    a.walletPoints === b.walletPoints &&
    a.walletVersion === b.walletVersion &&
    a.ledgerSum === b.ledgerSum &&
    a.ledgerCount === b.ledgerCount
  );
}

import { hash } from "node:crypto";
import type { Entry, EntryKind } from "./types.js";
import { MAX_ENTRY_POINTS } from "./types.js";

/** What may happen when an entry would take a wallet below zero. */
export type BelowZeroPolicy = "refuse" | "allow" | "clamp";

/** Spends and manual debits never overdraw; reversals of points already spent may. */
export const DEFAULT_BELOW_ZERO: Record<EntryKind, BelowZeroPolicy> = {
  purchase: "refuse",
  spend: "refuse",
  admin_adjustment: "refuse",
  reversal: "allow",
  reinstatement: "allow",
  reconcile_adjustment: "allow",
};

/** A `reconcile_adjustment` records a change the wallet already shows; every other kind moves it. */
export function movesWallet(kind: EntryKind): boolean {
  return kind !== "reconcile_adjustment";
}

export type BelowZeroDecision = { refused: true; available: number } | { refused: false; amount: number; shortfall: number };

/**
 * What an entry of `amount` may post against a wallet holding `available`: all of it,
 * nothing (`refuse`), or, under `clamp`, what is there, with the rest as shortfall.
 * Only a debit that would end below zero is subject to the policy; a clamp that would
 * leave nothing to post is a refusal, since an entry is never zero.
 */
export function decideBelowZero(kind: EntryKind, amount: number, available: number, policy: BelowZeroPolicy | undefined): BelowZeroDecision {
  // A credit only raises the wallet, so it is never refused or clamped, even into a wallet still below zero.
  if (!movesWallet(kind) || amount > 0 || available + amount >= 0) return { refused: false, amount, shortfall: 0 };
  const chosen = policy ?? DEFAULT_BELOW_ZERO[kind];
  if (chosen === "refuse") return { refused: true, available };
  if (chosen === "clamp") {
    // Nothing left to take: an entry of zero points would record nothing, so there is none.
    if (available <= 0) return { refused: true, available };
    return { refused: false, amount: -available, shortfall: -available - amount };
  }
  return { refused: false, amount, shortfall: 0 };
}

/**
 * Which kinds an entry of each kind may reference through `reverses_entry_id`. A
 * `reconcile_adjustment` is in no list: a reversal would move the wallet, which the heal
 * never moved, and re-open the drift; a heal is undone only by reverting its run.
 * Migration 5 holds the database to the same table.
 */
const REVERSIBLE: Partial<Record<EntryKind, readonly EntryKind[]>> = {
  reversal: ["purchase", "spend", "admin_adjustment", "reinstatement"],
  reinstatement: ["reversal"],
};

/** The kind of entry that reverses an entry of `kind`, or null when no entry may. */
export function reversingKindOf(kind: EntryKind): EntryKind | null {
  for (const [reversing, reversible] of Object.entries(REVERSIBLE) as [EntryKind, readonly EntryKind[]][]) {
    if (reversible.includes(kind)) return reversing;
  }
  return null;
}

/** The sign each kind's amount must have; `any` means either, never zero. */
const SIGN: Record<EntryKind, "positive" | "negative" | "any" | "opposite"> = {
  purchase: "positive",
  spend: "negative",
  reversal: "opposite",
  reinstatement: "opposite",
  admin_adjustment: "any",
  reconcile_adjustment: "any",
};

/**
 * Checks the shape of an entry before any I/O. A violation is a programming error in
 * the caller (input is validated at the edge), so it throws.
 */
export function assertEntryShape(kind: EntryKind, amount: number, reversesEntryId: number | null | undefined): void {
  if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_ENTRY_POINTS) {
    throw new Error(`entry amount must be a non-zero integer within ±${MAX_ENTRY_POINTS}, got ${amount}`);
  }
  const sign = SIGN[kind];
  if (sign === "positive" && amount < 0) throw new Error(`${kind} must be positive`);
  if (sign === "negative" && amount > 0) throw new Error(`${kind} must be negative`);
  const needsOriginal = REVERSIBLE[kind] !== undefined;
  if (needsOriginal !== (reversesEntryId !== null && reversesEntryId !== undefined)) {
    throw new Error(needsOriginal ? `${kind} must reference the entry it reverses` : `${kind} cannot reference an entry`);
  }
}

export type ReversalCheck =
  | { ok: true; remaining: number }
  | { ok: false; reason: "wrong_user" | "not_reversible" | "wrong_sign" | "exceeds_original"; remaining: number };

/**
 * Whether `amount` may be posted against `original`, of which `remaining` points are not
 * yet reversed (`readUnreversedPoints`): it may bring the original back to zero, never past it.
 */
export function checkReversal(kind: EntryKind, uid: string, amount: number, original: Entry, remaining: number): ReversalCheck {
  if (original.uid !== uid) return { ok: false, reason: "wrong_user", remaining };
  if (!REVERSIBLE[kind]?.includes(original.kind)) return { ok: false, reason: "not_reversible", remaining };
  if (Math.sign(amount) === Math.sign(original.amount)) return { ok: false, reason: "wrong_sign", remaining };
  if (Math.abs(amount) > remaining) return { ok: false, reason: "exceeds_original", remaining };
  return { ok: true, remaining };
}

/** The content an idempotency key stands for: replaying it must carry the same content. */
export function entryContentHash(
  uid: string,
  kind: EntryKind,
  amount: number,
  reversesEntryId: number | null,
): string {
  // One-shot `hash` (Node 20.12): half the cost of a Hash object, once per entry posted.
  return hash("sha256", JSON.stringify([uid, kind, amount, reversesEntryId]), "hex");
}

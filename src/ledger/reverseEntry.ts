import type { IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import type { Trx } from "../storage/withTransaction.js";
import { reversingKindOf } from "./entryRules.js";
import { postAdminEntry, runAdminWrite } from "./postAdminEntry.js";
import type { UnversionedEntryOutcome } from "./postEntry.js";
import { readUnreversedPoints } from "./readUnreversedPoints.js";
import { toKeyedOutcome, type KeyedEntryOutcome } from "./toKeyedOutcome.js";
import type { EntryKind } from "./types.js";

export interface ReverseRequest {
  entryId: number;
  /** Points to reverse, positive; all that remains when absent. */
  points?: number;
  reason: string;
  actor: string;
  idempotencyKey: string;
  now: Date;
}

export type ReverseOutcome =
  | KeyedEntryOutcome
  | { outcome: "entry_not_found" }
  | { outcome: "nothing_to_reverse" }
  | { outcome: "exceeds_original"; remaining: number }
  /** 409: the ledger's rules let no entry reverse an entry of this kind. */
  | { outcome: "not_reversible"; kind: EntryKind }
  | { outcome: "adjustments_frozen" };

/**
 * Reverses an entry with a new one that references it; history is never edited.
 * Reversing a reversal restores the points as a `reinstatement`.
 */
export async function reverseEntry(db: Db, request: ReverseRequest): Promise<IdempotentResult<ReverseOutcome>> {
  const fingerprint = { entryId: request.entryId, points: request.points ?? null, reason: request.reason };
  return runAdminWrite(db, "admin_reverse", request, fingerprint, (trx) => reverseInTransaction(trx, request));
}

async function reverseInTransaction(trx: Trx, request: ReverseRequest): Promise<ReverseOutcome> {
  const original = await trx
    .selectFrom("ledger_entries")
    .select(["id", "uid", "kind", "amount"])
    .where("id", "=", request.entryId)
    .executeTakeFirst();
  if (!original) return { outcome: "entry_not_found" };
  const kind = reversingKindOf(original.kind);
  if (kind === null) return { outcome: "not_reversible", kind: original.kind };
  const remaining = await readUnreversedPoints(trx, original);
  if (remaining === 0) return { outcome: "nothing_to_reverse" };
  const points = request.points ?? remaining;
  if (points > remaining) return { outcome: "exceeds_original", remaining };

  const result = await postAdminEntry(
    trx,
    request,
    { uid: original.uid, kind, amount: -Math.sign(original.amount) * points, keyPrefix: "admin_reverse", reversesEntryId: original.id },
    { action: "entry.reverse", details: (entry) => ({ reversedEntryId: original.id, entryId: entry.id, points, reason: request.reason }) },
  );
  return toReverseOutcome(result, original.kind);
}

/** The reference's refusals in the route's words; every other outcome as for any keyed entry (`toKeyedOutcome`). */
function toReverseOutcome(result: UnversionedEntryOutcome, originalKind: EntryKind): ReverseOutcome {
  switch (result.outcome) {
    case "original_not_found":
      return { outcome: "entry_not_found" };
    case "invalid_reversal":
      if (result.reason === "exceeds_original") return { outcome: "exceeds_original", remaining: result.remaining };
      return { outcome: "not_reversible", kind: originalKind };
    default:
      return toKeyedOutcome(result);
  }
}

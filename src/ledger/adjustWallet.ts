import { recordAudit } from "../audit/recordAudit.js";
import { readFlag } from "../flags/runtimeFlags.js";
import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import { toKeyedOutcome, type KeyedEntryOutcome } from "./toKeyedOutcome.js";

export interface AdjustmentRequest {
  uid: string;
  /** Signed points; a debit never takes the wallet below zero. */
  amount: number;
  reason: string;
  actor: string;
  idempotencyKey: string;
  now: Date;
}

export type AdjustmentOutcome =
  | KeyedEntryOutcome
  /** 423: the `adjustments_frozen` runtime flag is set. */
  | { outcome: "adjustments_frozen" };

/** A manual adjustment by an admin: one `admin_adjustment` entry, audited, refused while frozen. */
export async function adjustWallet(db: Db, request: AdjustmentRequest): Promise<IdempotentResult<AdjustmentOutcome>> {
  const fingerprint = { uid: request.uid, amount: request.amount, reason: request.reason };
  return withTransaction(db, async (trx) => {
    // A freeze is the server's state, not the request's answer: it is not remembered under
    // the key, so the same request succeeds once the freeze is lifted.
    if (await readFlag(trx, "adjustments_frozen")) return { kind: "fresh", outcome: { outcome: "adjustments_frozen" } };
    return runIdempotent(trx, "admin_adjustment", request.idempotencyKey, fingerprint, request.now, () => adjustInTransaction(trx, request));
  });
}

/** One `admin_adjustment` entry under the request's key, audited when posted. */
async function adjustInTransaction(trx: Trx, request: AdjustmentRequest): Promise<AdjustmentOutcome> {
  const result = await postEntry(trx, {
    uid: request.uid,
    kind: "admin_adjustment",
    amount: request.amount,
    idempotencyKey: `admin_adjustment:${request.idempotencyKey}`,
    source: "admin",
    sourceRef: request.actor,
    reason: request.reason,
    now: request.now,
  });
  if (result.outcome === "posted") {
    await recordAudit(trx, {
      actor: request.actor,
      action: "wallet.adjust",
      subject: request.uid,
      details: { entryId: result.entry.id, amount: request.amount, reason: request.reason },
      now: request.now,
    });
  }
  return toKeyedOutcome(result);
}

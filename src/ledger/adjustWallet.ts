import type { IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { postAdminEntry, runAdminWrite } from "./postAdminEntry.js";
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
export function adjustWallet(db: Db, request: AdjustmentRequest): Promise<IdempotentResult<AdjustmentOutcome>> {
  const fingerprint = { uid: request.uid, amount: request.amount, reason: request.reason };
  return runAdminWrite(db, "admin_adjustment", request, fingerprint, async (trx) => {
    const result = await postAdminEntry(
      trx,
      request,
      { uid: request.uid, kind: "admin_adjustment", amount: request.amount, keyPrefix: "admin_adjustment" },
      { action: "wallet.adjust", details: (entry) => ({ entryId: entry.id, amount: request.amount, reason: request.reason }) },
    );
    return toKeyedOutcome(result);
  });
}

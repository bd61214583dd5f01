import { recordAudit } from "../audit/recordAudit.js";
import { readFlag } from "../flags/runtimeFlags.js";
import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import type { Entry, Wallet } from "./types.js";

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
  | { outcome: "posted"; entry: Entry; wallet: Wallet }
  | { outcome: "insufficient_points"; available: number }
  | { outcome: "adjustments_frozen" }
  /** 409: the wallet or the user's ledger sum would leave the exact range (`MAX_BALANCE_POINTS`). */
  | { outcome: "out_of_range"; limit: number }
  /** The ledger already holds this key's entry with other content (409 idempotency_key_reused). */
  | { outcome: "key_reused" };

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

/**
 * The key was claimed first (`runIdempotent`), so a `duplicate` or `conflict` here means
 * the ledger holds the key's entry without its idempotency record: the entry is the answer.
 */
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
  switch (result.outcome) {
    case "posted":
      await recordAudit(trx, {
        actor: request.actor,
        action: "wallet.adjust",
        subject: request.uid,
        details: { entryId: result.entry.id, amount: request.amount, reason: request.reason },
        now: request.now,
      });
      return { outcome: "posted", entry: result.entry, wallet: result.wallet };
    case "duplicate":
      return { outcome: "posted", entry: result.entry, wallet: result.wallet };
    case "insufficient_points":
      return { outcome: "insufficient_points", available: result.available };
    case "conflict":
      return { outcome: "key_reused" };
    case "out_of_range":
      return { outcome: "out_of_range", limit: result.limit };
    default: {
      const never: never = result;
      throw new Error(`unhandled adjustment outcome ${JSON.stringify(never)}`);
    }
  }
}

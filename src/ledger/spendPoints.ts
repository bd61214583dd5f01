import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import { toKeyedOutcome, type KeyedEntryOutcome } from "./toKeyedOutcome.js";

export interface SpendRequest {
  uid: string;
  /** Points to take, a positive integer. */
  points: number;
  idempotencyKey: string;
  reason?: string | null;
  now: Date;
}

export type SpendOutcome = KeyedEntryOutcome;

/** Debits a wallet at most once per idempotency key; never below zero. */
export async function spendPoints(db: Db, request: SpendRequest): Promise<IdempotentResult<SpendOutcome>> {
  const fingerprint = { uid: request.uid, points: request.points, reason: request.reason ?? null };
  return withTransaction(db, (trx) =>
    runIdempotent(trx, "spend", request.idempotencyKey, fingerprint, request.now, async () =>
      toKeyedOutcome(
        await postEntry(trx, {
          uid: request.uid,
          kind: "spend",
          amount: -request.points,
          idempotencyKey: `spend:${request.idempotencyKey}`,
          source: "api",
          reason: request.reason ?? null,
          now: request.now,
        }),
      ),
    ),
  );
}

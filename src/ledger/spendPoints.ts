import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { ConcurrentWriteError, withTransaction } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import type { Entry, Wallet } from "./types.js";

export interface SpendRequest {
  uid: string;
  /** Points to take, a positive integer. */
  points: number;
  idempotencyKey: string;
  reason?: string | null;
  now: Date;
}

export type SpendOutcome =
  | { outcome: "posted"; entry: Entry; wallet: Wallet }
  | { outcome: "insufficient_points"; available: number };

/** Debits a wallet at most once per idempotency key; never below zero. */
export async function spendPoints(db: Db, request: SpendRequest): Promise<IdempotentResult<SpendOutcome>> {
  const fingerprint = { uid: request.uid, points: request.points, reason: request.reason ?? null };
  return withTransaction(db, (trx) =>
    runIdempotent(trx, "spend", request.idempotencyKey, fingerprint, request.now, async (): Promise<SpendOutcome> => {
      const result = await postEntry(trx, {
        uid: request.uid,
        kind: "spend",
        amount: -request.points,
        idempotencyKey: `spend:${request.idempotencyKey}`,
        source: "api",
        reason: request.reason ?? null,
        now: request.now,
      });
      switch (result.outcome) {
        case "posted":
          return { outcome: "posted", entry: result.entry, wallet: result.wallet };
        case "insufficient_points":
          return { outcome: "insufficient_points", available: result.available };
        case "duplicate":
          // Its idempotency record committed with it; running again replays that record.
          throw new ConcurrentWriteError(`spend ${request.idempotencyKey}`);
        default:
          throw new Error(`unexpected spend outcome ${result.outcome}`);
      }
    }),
  );
}

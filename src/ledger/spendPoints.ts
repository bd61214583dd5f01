import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntry, type PlainEntryOutcome } from "./postEntry.js";
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
  | { outcome: "insufficient_points"; available: number }
  /** 409: the wallet or the user's ledger sum would leave the exact range (`MAX_BALANCE_POINTS`). */
  | { outcome: "out_of_range"; limit: number }
  /** The ledger already holds this key's entry with other content (409 idempotency_key_reused). */
  | { outcome: "key_reused" };

/** Debits a wallet at most once per idempotency key; never below zero. */
export async function spendPoints(db: Db, request: SpendRequest): Promise<IdempotentResult<SpendOutcome>> {
  const fingerprint = { uid: request.uid, points: request.points, reason: request.reason ?? null };
  return withTransaction(db, (trx) =>
    runIdempotent(trx, "spend", request.idempotencyKey, fingerprint, request.now, async () =>
      toSpendOutcome(
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

/**
 * The key was claimed first (`runIdempotent`), so a `duplicate` or `conflict` here means
 * the ledger holds the key's entry without its idempotency record: the entry is the answer.
 */
function toSpendOutcome(result: PlainEntryOutcome): SpendOutcome {
  switch (result.outcome) {
    case "posted":
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
      throw new Error(`unhandled spend outcome ${JSON.stringify(never)}`);
    }
  }
}

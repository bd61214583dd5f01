import { createHash } from "node:crypto";
import type { Trx } from "../storage/withTransaction.js";

export type IdempotentResult<O> =
  /** The work ran now; its outcome is stored under the key in the same transaction. */
  | { kind: "fresh"; outcome: O }
  /** The key was used before with the same request: the first outcome, unchanged. */
  | { kind: "replayed"; outcome: O }
  /** The key was used before with a different request: nothing ran. */
  | { kind: "key_reused" };

export function requestHash(request: unknown): string {
  return createHash("sha256").update(JSON.stringify(request)).digest("hex");
}

/**
 * What a claimed record holds until its work has run. Only the claiming transaction
 * can ever see it: the real outcome replaces it before that transaction commits.
 */
const CLAIMED = "";

/**
 * Runs `work` at most once per (scope, key). The outcome, whatever it is, is stored in
 * the same transaction as the work's writes, so a retried request replays it exactly
 * as first answered (a refused spend stays refused, as with card-network idempotency).
 *
 * The key itself serialises racing requests: the record is claimed by an insert before
 * anything is read or written. On PostgreSQL a second insert of the same key waits for
 * the first transaction; once that commits it inserts nothing, and the next statement
 * sees the winner's record, so the loser replays or answers `key_reused`. If the winner
 * rolls back, the waiting insert succeeds and its request runs as the first.
 */
export async function runIdempotent<O>(
  trx: Trx,
  scope: string,
  key: string,
  request: unknown,
  now: Date,
  work: () => Promise<O>,
): Promise<IdempotentResult<O>> {
  const hash = requestHash(request);
  const claimed = await trx
    .insertInto("idempotency_records")
    .values({ scope, key, request_hash: hash, outcome: CLAIMED, created_at: now.toISOString() })
    .onConflict((conflict) => conflict.columns(["scope", "key"]).doNothing())
    .returning("key")
    .executeTakeFirst();
  if (!claimed) {
    const previous = await trx
      .selectFrom("idempotency_records")
      .select(["request_hash", "outcome"])
      .where("scope", "=", scope)
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    if (previous.request_hash !== hash) return { kind: "key_reused" };
    return { kind: "replayed", outcome: JSON.parse(previous.outcome) as O };
  }
  const outcome = await work();
  await trx
    .updateTable("idempotency_records")
    .set({ outcome: JSON.stringify(outcome) })
    .where("scope", "=", scope)
    .where("key", "=", key)
    .execute();
  return { kind: "fresh", outcome };
}

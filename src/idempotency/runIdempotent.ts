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
 * Runs `work` at most once per (scope, key). The outcome, whatever it is, is stored in
 * the same transaction as the work's writes, so a retried request replays it exactly
 * as first answered (a refused spend stays refused, as with card-network idempotency).
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
  const previous = await trx
    .selectFrom("idempotency_records")
    .select(["request_hash", "outcome"])
    .where("scope", "=", scope)
    .where("key", "=", key)
    .executeTakeFirst();
  if (previous) {
    if (previous.request_hash !== hash) return { kind: "key_reused" };
    return { kind: "replayed", outcome: JSON.parse(previous.outcome) as O };
  }
  const outcome = await work();
  await trx
    .insertInto("idempotency_records")
    .values({ scope, key, request_hash: hash, outcome: JSON.stringify(outcome), created_at: now.toISOString() })
    .execute();
  return { kind: "fresh", outcome };
}

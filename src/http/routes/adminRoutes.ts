import { z } from "zod";
import { adjustWallet, type AdjustmentOutcome } from "../../ledger/adjustWallet.js";
import { reverseEntry, type ReverseOutcome } from "../../ledger/reverseEntry.js";
import { parseBody, parseEntryId, parseIdempotencyKey, parseUid, Points, Reason, SignedPoints } from "../input.js";
import { refusal } from "../refusals.js";
import { actorOf, answerIdempotent, type Reply, type RouteDef } from "../RouteDef.js";

const AdjustmentBody = z.strictObject({ amount: SignedPoints, reason: Reason });
const ReverseBody = z.strictObject({ amount: Points.optional(), reason: Reason });

/** Both routes answer a posted entry with 201 and the entry and its wallet; anything else is refused (`REFUSALS`). */
export function answerEntry(outcome: AdjustmentOutcome | ReverseOutcome): Reply {
  if (outcome.outcome === "posted") return { status: 201, body: { entry: outcome.entry, wallet: outcome.wallet } };
  throw refusal(outcome);
}

export const adminRoutes: RouteDef[] = [
  {
    method: "POST",
    url: "/api/admin/wallets/:uid/adjustments",
    access: ["admin"],
    summary: "Adjust a wallet by a signed number of points (Idempotency-Key required)",
    schema: { body: AdjustmentBody },
    errors: ["invalid_uid", "missing_idempotency_key", "invalid_idempotency_key", "idempotency_key_reused", "insufficient_points", "balance_out_of_range", "adjustments_frozen"],
    async handle(request, context) {
      const uid = parseUid((request.params as { uid?: unknown }).uid);
      const idempotencyKey = parseIdempotencyKey(request.headers);
      const body = parseBody(AdjustmentBody, request.body);
      const result = await adjustWallet(context.db, {
        uid,
        amount: body.amount,
        reason: body.reason,
        actor: actorOf(context),
        idempotencyKey,
        now: context.now(),
      });
      return answerIdempotent(result, answerEntry);
    },
  },
  {
    method: "POST",
    url: "/api/admin/entries/:id/reverse",
    access: ["admin"],
    summary: "Reverse an entry in whole or in part (Idempotency-Key required)",
    schema: { body: ReverseBody },
    errors: [
      "invalid_entry_id",
      "missing_idempotency_key",
      "invalid_idempotency_key",
      "idempotency_key_reused",
      "entry_not_found",
      "nothing_to_reverse",
      "exceeds_original",
      "entry_not_reversible",
      "insufficient_points",
      "balance_out_of_range",
      "adjustments_frozen",
    ],
    async handle(request, context) {
      const entryId = parseEntryId((request.params as { id?: unknown }).id);
      const idempotencyKey = parseIdempotencyKey(request.headers);
      const body = parseBody(ReverseBody, request.body);
      const result = await reverseEntry(context.db, {
        entryId,
        ...(body.amount === undefined ? {} : { points: body.amount }),
        reason: body.reason,
        actor: actorOf(context),
        idempotencyKey,
        now: context.now(),
      });
      return answerIdempotent(result, answerEntry);
    },
  },
];

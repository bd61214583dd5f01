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

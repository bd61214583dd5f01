import { z } from "zod";
import { adjustWallet, type AdjustmentOutcome } from "../../ledger/adjustWallet.js";
import { reverseEntry, type ReverseOutcome } from "../../ledger/reverseEntry.js";
import type { EntryKind } from "../../ledger/types.js";
import { AppError } from "../errors.js";
import { parseBody, parseEntryId, parseIdempotencyKey, parseUid, Points, Reason, SignedPoints } from "../input.js";
import { actorOf, answerIdempotent, keyReused, outOfRange, type Reply, type RouteDef } from "../RouteDef.js";

const AdjustmentBody = z.strictObject({ amount: SignedPoints, reason: Reason });
const ReverseBody = z.strictObject({ amount: Points.optional(), reason: Reason });

const insufficient = (available: number) =>
  new AppError("insufficient_points", `the wallet holds ${available} points`, { available });

/** A heal is undone only by reverting its run, which keeps the wallet where the heal left it. */
function notReversibleMessage(kind: EntryKind): string {
  if (kind === "reconcile_adjustment") {
    return "a reconciliation adjustment is undone only by reverting its run (reckon reconcile revert --date D)";
  }
  return `an entry of kind ${kind} cannot be reversed`;
}

const frozen = () => new AppError("adjustments_frozen", "manual adjustments are frozen (runtime flag adjustments_frozen)");

export function answerAdjustment(outcome: AdjustmentOutcome): Reply {
  switch (outcome.outcome) {
    case "posted":
      return { status: 201, body: { entry: outcome.entry, wallet: outcome.wallet } };
    case "insufficient_points":
      throw insufficient(outcome.available);
    case "adjustments_frozen":
      throw frozen();
    case "out_of_range":
      throw outOfRange(outcome.limit);
    case "key_reused":
      throw keyReused();
    default: {
      const never: never = outcome;
      throw new Error(`unhandled adjustment outcome ${JSON.stringify(never)}`);
    }
  }
}

function answerReverse(outcome: ReverseOutcome): Reply {
  switch (outcome.outcome) {
    case "posted":
      return { status: 201, body: { entry: outcome.entry, wallet: outcome.wallet } };
    case "entry_not_found":
      throw new AppError("entry_not_found", "no entry with that id");
    case "nothing_to_reverse":
      throw new AppError("nothing_to_reverse", "the entry is already fully reversed");
    case "exceeds_original":
      throw new AppError("exceeds_original", `only ${outcome.remaining} points of the entry remain to reverse`, {
        remaining: outcome.remaining,
      });
    case "not_reversible":
      throw new AppError("entry_not_reversible", notReversibleMessage(outcome.kind), { kind: outcome.kind });
    case "insufficient_points":
      throw insufficient(outcome.available);
    case "adjustments_frozen":
      throw frozen();
    case "out_of_range":
      throw outOfRange(outcome.limit);
    case "key_reused":
      throw keyReused();
    default: {
      const never: never = outcome;
      throw new Error(`unhandled reverse outcome ${JSON.stringify(never)}`);
    }
  }
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
      return answerIdempotent(result, answerAdjustment);
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
      return answerIdempotent(result, answerReverse);
    },
  },
];

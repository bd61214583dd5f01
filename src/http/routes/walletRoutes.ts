import { z } from "zod";
import { listEntries } from "../../ledger/listEntries.js";
import { readWallet } from "../../ledger/readWallet.js";
import { spendPoints, type SpendOutcome } from "../../ledger/spendPoints.js";
import { AppError } from "../errors.js";
import { NoQuery, parseBody, parseIdempotencyKey, parseQuery, parseUid, Points, Reason } from "../input.js";
import { refusal } from "../refusals.js";
import { answerIdempotent, type Reply, type RouteDef } from "../RouteDef.js";

const SpendBody = z.strictObject({ amount: Points, reason: Reason.optional() });

const LedgerQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "must be a whole number from 1 to 200")
    .transform(Number)
    .refine((value) => value >= 1 && value <= 200, "must be a whole number from 1 to 200")
    .optional(),
  cursor: z.string().max(64).optional(),
});

/** Cursors are opaque to clients: today the id of the last entry seen, base64url-encoded. */
function encodeCursor(before: number): string {
  return Buffer.from(`before:${before}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^before:([1-9]\d{0,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match || !Number.isSafeInteger(Number(match[1]))) throw new AppError("invalid_cursor", "the cursor is not one this server gave");
  return Number(match[1]);
}

function answerSpend(outcome: SpendOutcome): Reply {
  if (outcome.outcome === "posted") return { status: 201, body: { entry: outcome.entry, wallet: outcome.wallet } };
  throw refusal(outcome);
}

export const walletRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/api/wallets/:uid",
    access: ["service", "admin"],
    summary: "A wallet's balance",
    schema: { query: NoQuery },
    errors: ["invalid_uid", "wallet_not_found"],
    async handle(request, context) {
      const uid = parseUid((request.params as { uid?: unknown }).uid);
      parseQuery(NoQuery, request.query);
      const wallet = await readWallet(context.db.kysely, uid);
      if (!wallet) throw new AppError("wallet_not_found", `no wallet for ${uid}`);
      return { status: 200, body: wallet };
    },
  },
  {
    method: "GET",
    url: "/api/wallets/:uid/ledger",
    access: ["service", "admin"],
    summary: "A wallet's ledger entries, newest first, paged by cursor",
    schema: { query: LedgerQuery },
    errors: ["invalid_uid", "invalid_cursor"],
    async handle(request, context) {
      const uid = parseUid((request.params as { uid?: unknown }).uid);
      const query = parseQuery(LedgerQuery, request.query);
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const page = await listEntries(context.db.kysely, uid, {
        limit: query.limit ?? 50,
        ...(before === undefined ? {} : { before }),
      });
      return {
        status: 200,
        body: { entries: page.entries, nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore) },
      };
    },
  },
  {
    method: "POST",
    url: "/api/wallets/:uid/spend",
    access: ["service"],
    summary: "Spend points (Idempotency-Key required)",
    schema: { body: SpendBody },
    errors: ["invalid_uid", "missing_idempotency_key", "invalid_idempotency_key", "idempotency_key_reused", "insufficient_points"],
    async handle(request, context) {
      const uid = parseUid((request.params as { uid?: unknown }).uid);
      const idempotencyKey = parseIdempotencyKey(request.headers);
      const body = parseBody(SpendBody, request.body);
      const result = await spendPoints(context.db, {
        uid,
        points: body.amount,
        idempotencyKey,
        reason: body.reason ?? null,
        now: context.now(),
      });
      return answerIdempotent(result, answerSpend);
    },
  },
];

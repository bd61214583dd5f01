import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { recordAudit } from "../audit/recordAudit.js";
import { replayEvent, type ReplayOutcome } from "../backfill/replayEvent.js";
import { isRuntimeFlagName, setFlag } from "../flags/setFlag.js";
import type { AppContext } from "../http/context.js";
import { AppError } from "../http/errors.js";
import { parseBody, parseIdempotencyKey, parseUid, Reason, SignedPoints } from "../http/input.js";
import { refusal } from "../http/refusals.js";
import { actorOf, answerIdempotent, type Reply } from "../http/RouteDef.js";
import { answerEntry } from "../http/routes/adminRoutes.js";
import { answerResolve, parseFindingId } from "../http/routes/providerFindingRoutes.js";
import { resolveFinding } from "../providerSync/resolveFinding.js";
import { adjustWallet } from "../ledger/adjustWallet.js";
import { withTransaction } from "../storage/withTransaction.js";
import { wantsJson } from "./wantsJson.js";
import { authenticateAdmin, checkCsrf, readSession, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, type AdminSession } from "./adminSession.js";

/** The page's forms are small; nothing it accepts comes near this (413 `body_too_large` past it). */
export const ADMIN_BODY_LIMIT_BYTES = 16_384;
const SMALL_BODY = { bodyLimit: ADMIN_BODY_LIMIT_BYTES };

const LoginBody = z.strictObject({ token: z.string().trim().min(1, "must not be empty").max(4096, "is too long") });
const CsrfBody = z.strictObject({ csrf: z.string() });
/** Form fields arrive as text: a whole number written in digits is read as one, then checked as the API checks it. */
const FormPoints = z.preprocess((value) => (typeof value === "string" && /^\s*[+-]?\d{1,16}\s*$/.test(value) ? Number(value) : value), SignedPoints);
const AdjustmentForm = z.strictObject({ csrf: z.string(), idempotencyKey: z.string(), amount: FormPoints, reason: Reason });
/** `uid` only for a credit; an empty field is sent on as the API would send it, and refused there. */
const ResolveForm = z.strictObject({ csrf: z.string(), uid: z.string().optional() });
const FlagForm = z.strictObject({
  csrf: z.string(),
  value: z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean({ error: "must be true or false" })),
});

/** The session and its CSRF check, before the body is read: a forged request learns nothing else. */
async function actionSession(request: FastifyRequest, context: AppContext): Promise<AdminSession> {
  const session = await readSession(request, context);
  const body = request.body;
  checkCsrf(session, typeof body === "object" && body !== null && !Array.isArray(body) ? (body as { csrf?: unknown }).csrf : undefined);
  return session;
}

const actor = (session: AdminSession, context: AppContext) => actorOf({ ...context, principal: session.principal });

/** JSON clients get the API's answer; a browser is sent back to the page with what happened. */
function finish(request: FastifyRequest, reply: FastifyReply, answer: Reply, location: string) {
  if (answer.status >= 400) {
    const code = (answer.body as { error: { code: string } }).error.code;
    if (!wantsJson(request)) return reply.code(303).header("location", `${location.split("?")[0]}?refused=${code}`).send();
  }
  if (wantsJson(request)) return reply.code(answer.status).headers(answer.headers ?? {}).send(answer.body);
  return reply.code(303).header("location", location).send();
}

function parseEventId(value: unknown): number {
  if (typeof value !== "string" || !/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new AppError("invalid_event_id", "an event id is a positive whole number");
  }
  return Number(value);
}

function answerReplay(outcome: ReplayOutcome): Reply {
  switch (outcome.outcome) {
    case "replayed": {
      const { result } = outcome;
      const why = result.status === "failed" ? { reason: result.reason, detail: result.detail } : result.status === "parked" ? { waitingFor: result.waitingFor } : {};
      return { status: 200, body: { outcome: "replayed", id: outcome.id, from: outcome.from, status: result.status, ...why } };
    }
    case "event_not_found":
    case "not_replayable":
      throw refusal(outcome);
    default: {
      const never: never = outcome;
      throw new Error(`unhandled replay outcome ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The page's actions (POST). Each checks the session and its CSRF token, then calls the
 * function the API route and the CLI call (`adjustWallet`, `setFlag`, `replayEvent`),
 * which audits the change in its own transaction.
 */
export function adminActions(scope: FastifyInstance, context: AppContext): void {
  scope.post("/admin/login", SMALL_BODY, async (request, reply) => {
    const { token } = parseBody(LoginBody, request.body ?? {});
    const principal = await authenticateAdmin(request, token, context);
    const now = context.now();
    await withTransaction(context.db, (trx) =>
      recordAudit(trx, { actor: actorOf({ ...context, principal }), action: "admin_page.login", subject: "admin_page", details: {}, now }),
    );
    reply.setCookie(SESSION_COOKIE, token, {
      path: "/admin",
      httpOnly: true,
      sameSite: "strict",
      secure: request.protocol === "https",
      maxAge: SESSION_MAX_AGE_SECONDS,
    });
    return finish(request, reply, { status: 200, body: { outcome: "logged_in" } }, "/admin");
  });

  scope.post("/admin/logout", SMALL_BODY, async (request, reply) => {
    await actionSession(request, context);
    parseBody(CsrfBody, request.body);
    reply.clearCookie(SESSION_COOKIE, { path: "/admin" });
    return finish(request, reply, { status: 200, body: { outcome: "logged_out" } }, "/admin/login");
  });

  scope.post("/admin/events/:id/replay", SMALL_BODY, async (request, reply) => {
    const session = await actionSession(request, context);
    parseBody(CsrfBody, request.body);
    const id = parseEventId((request.params as { id?: unknown }).id);
    const outcome = await replayEvent(context.db, {
      id,
      actor: actor(session, context),
      now: context.now(),
      reversalPolicy: context.config.webhooks.reversalPolicy,
    });
    return finish(request, reply, answerReplay(outcome), `/admin?done=replayed&event=${id}`);
  });

  scope.post("/admin/provider-findings/:id/resolve", SMALL_BODY, async (request, reply) => {
    const session = await actionSession(request, context);
    const id = parseFindingId((request.params as { id?: unknown }).id);
    const form = parseBody(ResolveForm, request.body);
    const outcome = await resolveFinding(context.db, {
      id,
      ...(form.uid === undefined ? {} : { uid: form.uid }),
      actor: actor(session, context),
      now: context.now(),
      reversalPolicy: context.config.webhooks.reversalPolicy,
    });
    return finish(request, reply, answerResolve(id, outcome), `/admin/findings?done=resolved&finding=${id}`);
  });

  scope.post("/admin/flags/:name", SMALL_BODY, async (request, reply) => {
    const session = await actionSession(request, context);
    const name = (request.params as { name?: unknown }).name;
    if (typeof name !== "string" || !isRuntimeFlagName(name)) throw new AppError("unknown_flag", "no runtime flag by that name");
    const form = parseBody(FlagForm, request.body);
    const outcome = await withTransaction(context.db, (trx) =>
      setFlag(trx, { name, value: form.value, actor: actor(session, context), now: context.now() }),
    );
    return finish(request, reply, { status: 200, body: outcome }, `/admin?done=flag&name=${name}`);
  });

  scope.post("/admin/users/:uid/adjustments", SMALL_BODY, async (request, reply) => {
    const session = await actionSession(request, context);
    const uid = parseUid((request.params as { uid?: unknown }).uid);
    const form = parseBody(AdjustmentForm, request.body);
    const idempotencyKey = parseIdempotencyKey({ "idempotency-key": form.idempotencyKey });
    const result = await adjustWallet(context.db, {
      uid,
      amount: form.amount,
      reason: form.reason,
      actor: actor(session, context),
      idempotencyKey,
      now: context.now(),
    });
    const answer = answerIdempotent(result, answerEntry);
    const entryId = (answer.body as { entry?: { id: number } }).entry?.id;
    return finish(request, reply, answer, `/admin/users/${encodeURIComponent(uid)}?done=adjusted&entry=${entryId ?? ""}`);
  });
}

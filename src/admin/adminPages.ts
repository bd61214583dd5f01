import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { listBackfillRuns } from "../backfill/backfillRuns.js";
import type { AppContext } from "../http/context.js";
import { AppError } from "../http/errors.js";
import { parseQuery, parseUid } from "../http/input.js";
import { actorOf } from "../http/RouteDef.js";
import { listEntries } from "../ledger/listEntries.js";
import { readWallet } from "../ledger/readWallet.js";
import { readLatestRun } from "../reconcile/listRunsByDay.js";
import { checkRunDate } from "../reconcile/checkRunDate.js";
import { readUserLine } from "../reconcile/readReports.js";
import { FindingsQuery, findingsFilter, listFindingsPage } from "../http/routes/providerFindingRoutes.js";
import { listFindings } from "../providerSync/storeFindings.js";
import { NoticeQuery, readNotice } from "./adminNotices.js";
import { readSession, type AdminSession } from "./adminSession.js";
import { MIGRATIONS_SHOWN, readDashboard } from "./readDashboard.js";
import { dashboardPage } from "./templates/dashboardPage.js";
import { findingsPage } from "./templates/findingsPage.js";
import type { SafeHtml } from "./templates/html.js";
import type { LayoutSession } from "./templates/layout.js";
import { loginPage } from "./templates/loginPage.js";
import { userPage } from "./templates/userPage.js";

const LEDGER_PAGE_ENTRIES = 50;
const FINDINGS_SHOWN = 200;

/** The API's filter and the notice a redirect may carry; the filter form sends empty fields for "any". */
const FindingsPageQuery = z.preprocess(
  (query) => (typeof query === "object" && query !== null ? Object.fromEntries(Object.entries(query).filter(([, value]) => value !== "")) : query),
  FindingsQuery.omit({ limit: true }).extend(NoticeQuery.shape),
);

const UserQuery = NoticeQuery.extend({
  date: z.string().max(10).optional(),
  before: z.string().regex(/^[1-9]\d{0,15}$/, "must be an entry id").optional(),
});

function layoutSession(session: AdminSession, context: AppContext): LayoutSession {
  return { actor: actorOf({ ...context, principal: session.principal }), csrf: session.csrf };
}

const asHtml = (page: SafeHtml) => page.text;

/** The page's views (GET): each reads through the parts' own read functions, never writes. */
export function adminPages(scope: FastifyInstance, context: AppContext): void {
  scope.get("/admin/login", async (request, reply) => {
    const { refused } = parseQuery(NoticeQuery.pick({ refused: true }), request.query);
    const notice = await readNotice(context.db, refused === undefined ? {} : { refused });
    return reply.type("text/html; charset=utf-8").send(asHtml(loginPage(notice)));
  });

  scope.get("/admin", async (request, reply) => {
    const session = await readSession(request, context);
    const notice = await readNotice(context.db, request.query);
    const dashboard = await readDashboard(context.db, context.config, context.now());
    return reply.type("text/html; charset=utf-8").send(asHtml(dashboardPage(dashboard, layoutSession(session, context), notice)));
  });

  scope.get("/admin/users", async (request, reply) => {
    await readSession(request, context);
    const { uid } = parseQuery(z.strictObject({ uid: z.string() }), request.query);
    return reply.code(303).header("location", `/admin/users/${encodeURIComponent(parseUid(uid.trim()))}`).send();
  });

  scope.get("/admin/users/:uid", async (request, reply) => {
    const session = await readSession(request, context);
    const uid = parseUid((request.params as { uid?: unknown }).uid);
    const query = parseQuery(UserQuery, request.query);
    const { date: _date, before: _before, ...noticeFields } = query;
    let date = (await readLatestRun(context.db.kysely))?.date ?? null;
    if (query.date !== undefined) {
      const check = checkRunDate(query.date, context.now());
      if (!check.ok) throw new AppError("invalid_date", check.message, { reason: check.reason });
      date = check.date;
    }
    const view = {
      uid,
      wallet: await readWallet(context.db.kysely, uid, 0),
      date,
      line: date === null ? null : await readUserLine(context.db.kysely, date, uid),
      entries: await listEntries(context.db.kysely, uid, {
        limit: LEDGER_PAGE_ENTRIES,
        ...(query.before === undefined ? {} : { before: Number(query.before) }),
      }),
      adjustmentKey: `admin-page-${randomUUID()}`,
    };
    const notice = await readNotice(context.db, noticeFields);
    return reply.type("text/html; charset=utf-8").send(asHtml(userPage(view, layoutSession(session, context), notice)));
  });

  scope.get("/admin/findings", async (request, reply) => {
    const session = await readSession(request, context);
    const { date, status, provider, after, ...noticeFields } = parseQuery(FindingsPageQuery, request.query);
    const filter = findingsFilter({ date, status, provider });
    const findings = await listFindingsPage(context.db.kysely, { ...filter, limit: FINDINGS_SHOWN, ...(after ? { after } : {}) });
    const view = { filter, findings, limit: FINDINGS_SHOWN, after: after ?? null };
    const notice = await readNotice(context.db, noticeFields);
    return reply.type("text/html; charset=utf-8").send(asHtml(findingsPage(view, layoutSession(session, context), notice)));
  });

  // The live progress of backfill runs, polled by the page's script.
  scope.get("/admin/migrations.json", async (request, reply) => {
    await readSession(request, context);
    parseQuery(z.strictObject({}), request.query);
    return reply.send({ migrations: await listBackfillRuns(context.db.kysely, MIGRATIONS_SHOWN) });
  });
}

import { z } from "zod";
import { checkRunDate } from "../../reconcile/checkRunDate.js";
import { readUserLine } from "../../reconcile/readReports.js";
import { reconcileJob, type ReconcileJobOutcome } from "../../reconcile/reconcileJob.js";
import { AppError } from "../errors.js";
import { readDayReport } from "../../providerSync/readDayReport.js";
import { NoQuery, parseBody, parseQuery, parseUid } from "../input.js";
import { refusal } from "../refusals.js";
import type { Reply, RouteDef } from "../RouteDef.js";

const JobBody = z.strictObject({ date: z.string({ error: "must be a string YYYY-MM-DD" }).optional() });

/** Dates in paths: the same rule as the job, so a future date is a 400, never an empty 404. */
function parseDate(value: unknown, now: Date): string {
  const check = checkRunDate(typeof value === "string" ? value : "", now);
  if (!check.ok) throw new AppError("invalid_date", check.message, { reason: check.reason });
  return check.date;
}

function answerJob(outcome: ReconcileJobOutcome): Reply {
  if (outcome.outcome === "completed" || outcome.outcome === "shared") return { status: 200, body: outcome.run };
  throw refusal(outcome);
}

export const reconcileRoutes: RouteDef[] = [
  {
    method: "POST",
    url: "/api/jobs/reconcile",
    // The scheduler's route: an OIDC token of the job role (Cloud Scheduler, a CronJob).
    access: ["job"],
    summary: "Run the day's reconciliation (default: today, UTC)",
    schema: { body: JobBody, bodyOptional: true },
    errors: ["invalid_date", "reconciliation_in_progress", "feature_disabled"],
    async handle(request, context) {
      // An empty request means "today"; anything sent must be a JSON object of known fields.
      const body = parseBody(JobBody, request.body ?? {});
      const outcome = await reconcileJob(context.db, context.config, {
        ...(body.date === undefined ? {} : { date: body.date }),
        now: context.now,
        logger: request.log,
        requestId: request.id,
      });
      return answerJob(outcome);
    },
  },
  {
    method: "GET",
    url: "/api/reconciliation/reports/:date",
    access: ["admin"],
    summary: "A day's reconciliation report",
    schema: { query: NoQuery },
    errors: ["invalid_date", "report_not_found"],
    async handle(request, context) {
      const date = parseDate((request.params as { date?: unknown }).date, context.now());
      parseQuery(NoQuery, request.query);
      const report = await readDayReport(context.db.kysely, date);
      if (!report) throw new AppError("report_not_found", `no reconciliation run for ${date}`);
      return { status: 200, body: report };
    },
  },
  {
    method: "GET",
    url: "/api/reconciliation/reports/:date/users/:uid",
    access: ["admin"],
    summary: "One user's line of a day's reconciliation report",
    schema: { query: NoQuery },
    errors: ["invalid_date", "invalid_uid", "report_not_found"],
    async handle(request, context) {
      const params = request.params as { date?: unknown; uid?: unknown };
      const date = parseDate(params.date, context.now());
      const uid = parseUid(params.uid);
      parseQuery(NoQuery, request.query);
      const line = await readUserLine(context.db.kysely, date, uid);
      if (!line) throw new AppError("report_not_found", `no report line for ${uid} on ${date}`);
      return { status: 200, body: line };
    },
  },
];

import { z } from "zod";
import { backfillDeps } from "../../backfill/backfillDeps.js";
import { backfillJob } from "../../backfill/backfillJob.js";
import { BackfillBody } from "../../backfill/BackfillRequest.js";
import { listBackfillRuns, readBackfillRun, type BackfillRun } from "../../backfill/backfillRuns.js";
import { AppError } from "../errors.js";
import { parseQuery } from "../input.js";
import { refusal } from "../refusals.js";
import type { Reply, RouteDef } from "../RouteDef.js";

/** How long the job route waits for a run before answering 202 with its record. */
export const BACKFILL_WAIT_MS = 20_000;

const MigrationsQuery = z.strictObject({
  limit: z.string().regex(/^([1-9]\d?|100)$/, "must be a whole number from 1 to 100").optional(),
});

const MIGRATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

function answerRecord(record: BackfillRun): Reply {
  const running = record.status === "running";
  return {
    status: running ? 202 : 200,
    body: record,
    ...(running ? { headers: { location: `/api/migrations/${record.id}` } } : {}),
  };
}

export const backfillRoutes: RouteDef[] = [
  {
    method: "POST",
    url: "/api/jobs/backfill",
    access: ["job"],
    summary: "Start a backfill of provider events over a date range",
    // backfillJob parses the body with this same schema.
    schema: { body: BackfillBody },
    errors: ["invalid_range", "backfill_running", "plan_changed", "feature_disabled", "provider_sync_not_configured"],
    async handle(request, context) {
      const started = await backfillJob({ ...backfillDeps(context.db, context.config, context.now), logger: request.log, requestId: request.id }, context.config, request.body);
      if (started.outcome !== "started") throw refusal(started);
      const finished = await settledWithin(started.done, BACKFILL_WAIT_MS);
      return answerRecord(finished ?? started.record);
    },
  },
  {
    method: "GET",
    url: "/api/migrations",
    access: ["admin"],
    summary: "The latest backfill runs",
    schema: { query: MigrationsQuery },
    async handle(request, context) {
      const query = parseQuery(MigrationsQuery, request.query);
      return { status: 200, body: { migrations: await listBackfillRuns(context.db.kysely, Number(query.limit ?? 50)) } };
    },
  },
  {
    method: "GET",
    url: "/api/migrations/:id",
    access: ["admin"],
    summary: "One backfill run",
    errors: ["invalid_migration_id", "migration_not_found"],
    async handle(request, context) {
      const id = (request.params as { id?: unknown }).id;
      if (typeof id !== "string" || !MIGRATION_ID.test(id)) {
        throw new AppError("invalid_migration_id", "a migration id is 1-64 letters, digits, _ or -");
      }
      const record = await readBackfillRun(context.db.kysely, id);
      if (!record) throw new AppError("migration_not_found", `no migration ${id}`);
      return { status: 200, body: record };
    },
  },
];

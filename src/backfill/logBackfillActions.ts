import type { Kysely, Selectable } from "kysely";
import type { Schema, WebhookEventsTable } from "../storage/schema.js";
import type { BackfillType } from "./BackfillRequest.js";

/** The part of a pino logger the actions are logged through. */
export interface ActionLogger {
  info(fields: object, message: string): void;
}

/** Who asked for the run: the job route's request id, null from the CLI. */
export interface ActionOrigin {
  migrationId: string;
  type: BackfillType;
  requestId: string | null;
}

/**
 * Logs one line per event a committed batch acted on: the event as the batch read it
 * (`before`) and as the commit left it (`after`), read back in one statement by primary
 * key. Called after the commit, so a batch that rolled back logs nothing.
 */
export async function logBackfillActions(
  db: Kysely<Schema>,
  logger: ActionLogger,
  origin: ActionOrigin,
  actedOn: readonly Selectable<WebhookEventsTable>[],
): Promise<void> {
  if (actedOn.length === 0) return;
  // The batch is committed whatever happens here: a failed read back logs `after: null`
  // rather than failing the run.
  const after = await db
    .selectFrom("webhook_events")
    .select(["id", "status", "failure_reason", "attempts", "waiting_for"])
    .where("id", "in", actedOn.map((row) => row.id))
    .execute()
    .catch(() => []);
  const afterById = new Map(after.map((row) => [Number(row.id), row]));
  for (const row of actedOn) {
    const now = afterById.get(Number(row.id));
    logger.info(
      {
        event: "backfill_action",
        migrationId: origin.migrationId,
        backfillType: origin.type,
        runId: null,
        requestId: origin.requestId,
        eventId: row.event_id,
        provider: row.provider,
        eventType: row.event_type,
        before: { status: row.status, failureReason: row.failure_reason, attempts: Number(row.attempts) },
        after: now
          ? { status: now.status, failureReason: now.failure_reason, attempts: Number(now.attempts), waitingFor: now.waiting_for }
          : null,
      },
      "backfill action",
    );
  }
}

import type { Kysely, Selectable } from "kysely";
import type { Schema, WebhookEventsTable, WebhookStatus } from "../storage/schema.js";

/** A stored delivery as an operator sees it: what it is, where it stands, and why. */
export interface EventSummary {
  id: number;
  provider: string;
  eventId: string;
  eventType: string;
  status: WebhookStatus;
  failureReason: string | null;
  failureDetail: string | null;
  waitingFor: string | null;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
}

/** Events that did not apply and wait for a replay or for what they refer to. */
export const STUCK_STATUSES = ["failed", "parked"] as const;

const COLUMNS = [
  "id",
  "provider",
  "event_id",
  "event_type",
  "status",
  "failure_reason",
  "failure_detail",
  "waiting_for",
  "attempts",
  "received_at",
  "processed_at",
] as const;

type SummaryRow = Pick<Selectable<WebhookEventsTable>, (typeof COLUMNS)[number]>;

function toEventSummary(row: SummaryRow): EventSummary {
  return {
    id: Number(row.id),
    provider: row.provider,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    failureReason: row.failure_reason,
    failureDetail: row.failure_detail,
    waitingFor: row.waiting_for,
    attempts: Number(row.attempts),
    receivedAt: row.received_at,
    processedAt: row.processed_at,
  };
}

/** Failed and parked events, newest first, at most `limit`, with how many there are in all. */
export async function listStuckEvents(db: Kysely<Schema>, limit: number): Promise<{ events: EventSummary[]; total: number }> {
  const rows = await db
    .selectFrom("webhook_events")
    .select(COLUMNS)
    .where("status", "in", STUCK_STATUSES)
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  const count = await db
    .selectFrom("webhook_events")
    .select((eb) => eb.fn.countAll<string | number>().as("total"))
    .where("status", "in", STUCK_STATUSES)
    .executeTakeFirstOrThrow();
  return { events: rows.map(toEventSummary), total: Number(count.total) };
}

/** One stored event's summary by its database id, or null. */
export async function readEventSummary(db: Kysely<Schema>, id: number): Promise<EventSummary | null> {
  const row = await db.selectFrom("webhook_events").select(COLUMNS).where("id", "=", id).executeTakeFirst();
  return row ? toEventSummary(row) : null;
}

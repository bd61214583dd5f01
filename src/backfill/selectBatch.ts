import { sql, type Kysely, type Selectable } from "kysely";
import { dialectOf } from "../storage/capabilities.js";
import type { Schema, WebhookEventsTable } from "../storage/schema.js";
import type { BackfillType } from "./BackfillRequest.js";

/** Deliveries that reverse or restore points: what `reversal_backfill` looks at. */
export const REVERSAL_EVENT_TYPES = [
  "ON_REFUND",
  "ON_CHARGEBACK",
  "ON_CHARGEBACK_CLOSED",
  "charge.refunded",
  "refund.created",
  "refund.updated",
  "charge.refund.updated",
  "charge.dispute.created",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
  "charge.dispute.closed",
] as const;

/** Statuses a replay applies again: everything not applied or deliberately ignored. */
export const REPLAYABLE_STATUSES = ["received", "failed", "parked"] as const;

export interface BatchWindow {
  from: string;
  to: string;
  /** Only events with a larger id: the run's cursor. */
  afterId: number;
  limit: number;
}

/** The next events of a run in id order, which is arrival order. */
export async function selectBatch(
  db: Kysely<Schema>,
  type: BackfillType,
  window: BatchWindow,
): Promise<Selectable<WebhookEventsTable>[]> {
  let query = db
    .selectFrom("webhook_events")
    .selectAll()
    .where("received_at", ">=", window.from)
    .where("received_at", "<", window.to)
    .where("id", ">", window.afterId);
  query =
    type === "webhook_replay"
      ? query.where("status", "in", [...REPLAYABLE_STATUSES])
      : query.where("event_type", "in", [...REVERSAL_EVENT_TYPES]);
  return query.orderBy("id").limit(window.limit).execute();
}

/**
 * Refreshes PostgreSQL's statistics of `webhook_events` before a run walks it. Right
 * after a large import the planner may still believe the table nearly empty and pick
 * a bitmap scan plus sort for every batch, which reads every pending row per batch
 * (a 1M-event replay slowed to a few batches a second). With fresh statistics it
 * walks the primary key from the cursor. SQLite plans this query well without them.
 */
export async function refreshScanStatistics(db: Kysely<Schema>): Promise<void> {
  if (dialectOf(db) === "postgres") await sql`analyze webhook_events`.execute(db);
}

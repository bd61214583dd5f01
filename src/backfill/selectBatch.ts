import type { Kysely, Selectable } from "kysely";
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

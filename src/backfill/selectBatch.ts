import { sql, type Kysely, type Selectable } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
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

/**
 * The next events of a run in id order, which is arrival order. The run walks the
 * primary key from its cursor, so each batch reads about as many rows as it returns.
 * Left to itself an engine may pick the (status, received_at) index instead and sort
 * every pending event of the range by id for each batch (`walkPrimaryKey` says how
 * each engine is kept on the key); a range far older than the table's newest events
 * then costs one pass over the table per run instead of a sort per batch. Planners
 * that need fresh statistics for this get them first (`refreshScanStatistics`).
 */
export async function selectBatch(
  db: Kysely<Schema>,
  type: BackfillType,
  window: BatchWindow,
): Promise<Selectable<WebhookEventsTable>[]> {
  const { rows } = await sql<Selectable<WebhookEventsTable>>`select * from ${engineOf(db).walkPrimaryKey("webhook_events")}
    where received_at >= ${window.from} and received_at < ${window.to} and id > ${window.afterId} and ${wantedBy(type)}
    order by id limit ${window.limit}`.execute(db);
  return rows;
}

/** The events a run of `type` acts on. */
function wantedBy(type: BackfillType) {
  return type === "webhook_replay"
    ? sql`status in (${sql.join([...REPLAYABLE_STATUSES])})`
    : sql`event_type in (${sql.join([...REVERSAL_EVENT_TYPES])})`;
}

/** How many events `selectBatch` would still return from `afterId` on: a progress bar's total. */
export async function countCandidates(db: Kysely<Schema>, type: BackfillType, window: Omit<BatchWindow, "limit">): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from webhook_events
    where received_at >= ${window.from} and received_at < ${window.to} and id > ${window.afterId} and ${wantedBy(type)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Refreshes the planner's statistics of `webhook_events` before a run walks it, where
 * the engine keeps them. Right after a large import a planner may still believe the
 * table nearly empty and pick a bitmap scan plus sort for every batch, which reads
 * every pending row per batch (a 1M-event replay slowed to a few batches a second).
 * With fresh statistics it walks the primary key from the cursor.
 */
export async function refreshScanStatistics(db: Kysely<Schema>): Promise<void> {
  await engineOf(db).refreshStatistics(db, "webhook_events");
}

import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** Stored deliveries that are neither applied nor ignored and wait for a replay or their original. */
export const WAITING_STATUSES = ["failed", "parked"] as const;
export type WaitingStatus = (typeof WAITING_STATUSES)[number];

export interface WaitingGroup {
  provider: string;
  status: WaitingStatus;
  /** The stored failure reason; `waiting_for_original` for a parked event. */
  reason: string;
  count: number;
  oldestReceivedAtMs: number;
}

/**
 * One read of `webhook_events` through the (status, received_at) index
 * (`webhook_events_status_received`): it visits only the failed and parked rows.
 */
export async function readWebhookBacklog(db: Kysely<Schema>): Promise<WaitingGroup[]> {
  const rows = await db
    .selectFrom("webhook_events")
    .select((eb) => ["provider", "status", "failure_reason", eb.fn.countAll().as("n"), eb.fn.min("received_at").as("oldest")])
    .where("status", "in", [...WAITING_STATUSES])
    .groupBy(["provider", "status", "failure_reason"])
    .execute();
  return rows.map((row) => ({
    provider: row.provider,
    status: row.status as WaitingStatus,
    reason: row.status === "parked" ? "waiting_for_original" : (row.failure_reason ?? "unknown"),
    count: Number(row.n),
    oldestReceivedAtMs: Date.parse(String(row.oldest)),
  }));
}

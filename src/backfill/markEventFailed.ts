import type { Selectable } from "kysely";
import type { WebhookEventsTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";

/**
 * Records on a stored event that applying it threw (`internal_error` and the error's
 * text), as the live path records its own failures: the event stays replayable, and
 * the next replay tries it again.
 */
export async function markEventFailed(trx: Trx, row: Selectable<WebhookEventsTable>, detail: string, now: Date): Promise<void> {
  await trx
    .updateTable("webhook_events")
    .set((eb) => ({
      status: "failed",
      failure_reason: "internal_error",
      failure_detail: detail,
      waiting_for: null,
      processed_at: now.toISOString(),
      attempts: eb("attempts", "+", 1),
    }))
    .where("id", "=", row.id)
    .execute();
}

import { recordAudit } from "../audit/recordAudit.js";
import type { ReversalPolicy } from "../config.js";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookStatus } from "../storage/schema.js";
import { isRetryable, withTransaction } from "../storage/withTransaction.js";
import type { ApplyResult } from "../webhooks/ApplyResult.js";
import { applyStoredEvent } from "../webhooks/applyStoredEvent.js";
import { markEventFailed } from "./markEventFailed.js";
import { REPLAYABLE_STATUSES } from "./selectBatch.js";

export interface ReplayRequest {
  /** The event's database id (`webhook_events.id`), as the admin page lists it. */
  id: number;
  actor: string;
  now: Date;
  reversalPolicy: ReversalPolicy;
}

export type ReplayOutcome =
  /** Applied again through the live path; `result` is what it did and is now the event's status. */
  | { outcome: "replayed"; id: number; from: WebhookStatus; result: ApplyResult }
  /** 404: no stored event with that id. */
  | { outcome: "event_not_found" }
  /** 409: the event is processed or ignored; a replay has nothing to do. */
  | { outcome: "not_replayable"; status: WebhookStatus };

const isReplayable = (status: WebhookStatus) => (REPLAYABLE_STATUSES as readonly string[]).includes(status);

/**
 * Replays one stored event, as a `webhook_replay` backfill replays each of its events:
 * `applyStoredEvent` records the outcome on the event (and releases what was parked
 * behind it), in one transaction with the audit row. The event row is locked first,
 * so two admins replaying it at once apply it once and audit what each saw. If
 * applying throws (a bug), the event is recorded failed `internal_error`, as a
 * backfill does, and stays replayable.
 */
export async function replayEvent(db: Db, request: ReplayRequest): Promise<ReplayOutcome> {
  try {
    return await withTransaction(db, async (trx) => {
      let query = trx.selectFrom("webhook_events").selectAll().where("id", "=", request.id);
      if (capabilitiesOf(trx).rowLocks) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) return { outcome: "event_not_found" };
      if (!isReplayable(row.status)) return { outcome: "not_replayable", status: row.status };
      const result = await applyStoredEvent(trx, row, { now: request.now, reversalPolicy: request.reversalPolicy });
      await auditReplay(trx, request, row, result.status);
      return { outcome: "replayed", id: row.id, from: row.status, result };
    });
  } catch (error) {
    if (isRetryable(error)) throw error;
    const detail = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    return withTransaction(db, async (trx) => {
      const row = await trx.selectFrom("webhook_events").selectAll().where("id", "=", request.id).executeTakeFirstOrThrow();
      await markEventFailed(trx, row, detail, request.now);
      await auditReplay(trx, request, row, "failed");
      return { outcome: "replayed", id: row.id, from: row.status, result: { status: "failed", reason: "internal_error", detail } };
    });
  }
}

function auditReplay(
  trx: Parameters<typeof recordAudit>[0],
  request: ReplayRequest,
  row: { id: number; provider: string; event_id: string; status: WebhookStatus },
  to: WebhookStatus,
): Promise<void> {
  return recordAudit(trx, {
    actor: request.actor,
    action: "webhook_event.replay",
    subject: `webhook_event:${row.id}`,
    details: { provider: row.provider, eventId: row.event_id, from: row.status, to },
    now: request.now,
  });
}

import type { Selectable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { WebhookEventsTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import type { ApplyResult } from "../webhooks/ApplyResult.js";
import { applyStoredEvent, applyStoredEvents } from "../webhooks/applyStoredEvent.js";
import { readStoredDelivery } from "../webhooks/readStoredDelivery.js";
import type { BackfillType } from "./BackfillRequest.js";
import { ERROR_SAMPLE_LIMIT, NO_PROGRESS, type ErrorSample, type Progress } from "./migrationRecords.js";

export interface ApplyBatchOptions {
  now: Date;
  reversalPolicy: ReversalPolicy;
}

type Tally = "processed" | "skipped" | ErrorSample;

/**
 * Applies a batch through exactly the live path (`applyStoredEvents`) in `trx` and
 * counts what happened. Every entry has a business key, so an event applied before
 * changes nothing now.
 */
export async function applyBatch(
  trx: Trx,
  type: BackfillType,
  rows: Selectable<WebhookEventsTable>[],
  options: ApplyBatchOptions,
): Promise<Progress> {
  const progress: Progress = { ...NO_PROGRESS, errorSamples: [] };
  const tallies =
    type === "webhook_replay" ? await replayAll(trx, rows, options) : await sequentially(rows, (row) => reverseOne(trx, row, options));
  for (const [index, tally] of tallies.entries()) {
    progress.scanned++;
    progress.cursor = rows[index]!.id;
    if (tally === "processed") progress.processed++;
    else if (tally === "skipped") progress.skipped++;
    else {
      progress.errors++;
      if (progress.errorSamples.length < ERROR_SAMPLE_LIMIT) progress.errorSamples.push(tally);
    }
  }
  return progress;
}

async function sequentially<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await work(item));
  return results;
}

/** The whole batch through `applyStoredEvents`, as a group commit of live deliveries goes. */
async function replayAll(trx: Trx, rows: Selectable<WebhookEventsTable>[], options: ApplyBatchOptions): Promise<Tally[]> {
  const results = await applyStoredEvents(trx, rows.map((row) => ({ row, options })));
  return results.map((result, index) => tallyOf(rows[index]!, result, "skipped"));
}

async function reverseOne(trx: Trx, row: Selectable<WebhookEventsTable>, options: ApplyBatchOptions): Promise<Tally> {
  if (row.status === "processed" && !(await missesItsEntries(trx, row))) return "skipped";
  const result = await applyStoredEvent(trx, row, options);
  // A reversal still waiting for its purchase is exactly what this backfill reports.
  return tallyOf(row, result, { eventId: row.event_id, reason: "original_not_found", detail: result.status === "parked" ? `waiting for ${result.waitingFor}` : "" });
}

function tallyOf(row: Selectable<WebhookEventsTable>, result: ApplyResult, whenParked: Tally): Tally {
  switch (result.status) {
    case "processed":
      return "processed";
    case "ignored":
      return "skipped";
    case "parked":
      return whenParked;
    case "failed":
      return { eventId: row.event_id, reason: result.reason, detail: result.detail.slice(0, 200) };
    default: {
      const never: never = result;
      throw new Error(`unhandled apply result ${JSON.stringify(never)}`);
    }
  }
}

/** Whether a processed refund or chargeback lacks the ledger records it should have caused. */
async function missesItsEntries(trx: Trx, row: Selectable<WebhookEventsTable>): Promise<boolean> {
  const { event } = readStoredDelivery(row.provider as Provider, row.raw_body);
  const reversalKeys =
    event.kind === "refund"
      ? event.refunds.map((refund) => refund.refundKey)
      : event.kind === "chargeback"
        ? [event.reversalKey]
        : [];
  if (reversalKeys.length > 0) {
    const found = await trx
      .selectFrom("webhook_reversals")
      .select("reversal_key")
      .where("reversal_key", "in", reversalKeys)
      .execute();
    return found.length < new Set(reversalKeys).size;
  }
  if (event.kind === "chargeback_won") {
    const reinstated = await trx
      .selectFrom("ledger_entries")
      .select("id")
      .where("idempotency_key", "=", event.reinstatementKey)
      .executeTakeFirst();
    return reinstated === undefined;
  }
  return false;
}

import { sql, type Selectable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { WebhookEventsTable } from "../storage/schema.js";
import { isRetryable, type Trx } from "../storage/withTransaction.js";
import type { ApplyResult } from "../webhooks/ApplyResult.js";
import { applyStoredEvent, applyStoredEvents } from "../webhooks/applyStoredEvent.js";
import { readStoredDelivery } from "../webhooks/readStoredDelivery.js";
import type { BackfillType } from "./BackfillRequest.js";
import { markEventFailed } from "./markEventFailed.js";
import { ERROR_SAMPLE_LIMIT, NO_PROGRESS, type ErrorSample, type Progress } from "./backfillRuns.js";
import { unreachable } from "../unreachable.js";

export interface ApplyBatchOptions {
  now: Date;
  reversalPolicy: ReversalPolicy;
}

type Tally = "processed" | "skipped" | ErrorSample;

/** A batch's counts, and the events it acted on (processed or failed; not skipped) as they were read. */
export interface BatchProgress extends Progress {
  actedOn: Selectable<WebhookEventsTable>[];
}

/**
 * Applies a batch through exactly the live path (`applyStoredEvents`) in `trx` and
 * counts what happened. Every entry has a business key, so an event applied before
 * changes nothing now. One event whose application throws does not fail the batch:
 * see `isolateFailures`.
 */
export async function applyBatch(
  trx: Trx,
  type: BackfillType,
  rows: Selectable<WebhookEventsTable>[],
  options: ApplyBatchOptions,
): Promise<BatchProgress> {
  const progress: BatchProgress = { ...NO_PROGRESS, errorSamples: [], actedOn: [] };
  const tallies = await isolateFailures(trx, type, rows, options);
  for (const [index, tally] of tallies.entries()) {
    progress.scanned++;
    progress.cursor = rows[index]!.id;
    if (tally !== "skipped") progress.actedOn.push(rows[index]!);
    if (tally === "processed") progress.processed++;
    else if (tally === "skipped") progress.skipped++;
    else {
      progress.errors++;
      if (progress.errorSamples.length < ERROR_SAMPLE_LIMIT) progress.errorSamples.push(tally);
    }
  }
  return progress;
}

/**
 * The batch as a whole inside a savepoint; if it throws, the savepoint is rolled back
 * and the batch applied again one event per savepoint, so only the events that throw
 * are lost from it: each is recorded failed (`internal_error`, with the error's text)
 * and counted as an error. The whole-batch attempt keeps the set-based speed when
 * nothing throws. A concurrent writer's error is not an event's fault: it propagates,
 * and the caller's transaction runs again.
 */
async function isolateFailures(trx: Trx, type: BackfillType, rows: Selectable<WebhookEventsTable>[], options: ApplyBatchOptions): Promise<Tally[]> {
  const whole = await inSavepoint(trx, "backfill_batch", () =>
    type === "webhook_replay" ? replayAll(trx, rows, options) : sequentially(rows, (row) => reverseOne(trx, row, options)),
  );
  if (whole.ok) return whole.value;
  return sequentially(rows, async (row) => {
    const one = await inSavepoint(trx, "backfill_event", () =>
      type === "webhook_replay" ? applyStoredEvent(trx, row, options).then((result) => tallyOf(row, result, "skipped")) : reverseOne(trx, row, options),
    );
    if (one.ok) return one.value;
    const detail = one.error instanceof Error ? one.error.message : String(one.error);
    await markEventFailed(trx, row, detail.slice(0, 500), options.now);
    return { eventId: row.event_id, reason: "internal_error", detail: detail.slice(0, 200) };
  });
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `work` in a savepoint of `trx`; what it wrote is rolled back if it throws. */
async function inSavepoint<T>(trx: Trx, name: string, work: () => Promise<T>): Promise<Attempt<T>> {
  const savepoint = sql.id(name);
  await sql`savepoint ${savepoint}`.execute(trx);
  try {
    const value = await work();
    await sql`release savepoint ${savepoint}`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to savepoint ${savepoint}`.execute(trx);
    await sql`release savepoint ${savepoint}`.execute(trx);
    if (isRetryable(error)) throw error;
    return { ok: false, error };
  }
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
  }
  return unreachable(result, "apply result");
}

/**
 * Whether a processed refund, chargeback or won chargeback lacks its record. Each is
 * recorded under its key whatever it posted (a won chargeback may restore nothing), so
 * the record, not a ledger entry, says it was applied.
 */
async function missesItsEntries(trx: Trx, row: Selectable<WebhookEventsTable>): Promise<boolean> {
  const { event } = readStoredDelivery(row.provider as Provider, row.raw_body);
  const keys =
    event.kind === "refund"
      ? event.refunds.map((refund) => refund.refundKey)
      : event.kind === "chargeback"
        ? [event.reversalKey]
        : event.kind === "chargeback_won"
          ? [event.reinstatementKey]
          : [];
  if (keys.length === 0) return false;
  const found = await trx.selectFrom("webhook_reversals").select("reversal_key").where("reversal_key", "in", keys).execute();
  return found.length < new Set(keys).size;
}

import { sql, type Selectable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import { PROVIDERS, type PaymentEvent, type Provider, type ReadDelivery } from "../providers/PaymentEvent.js";
import type { WebhookEventsTable } from "../storage/schema.js";
import type { WebhookPurchaseRow } from "../storage/EngineAdapter.js";
import { statementChunks, valuesTable } from "../storage/setBased.js";
import { isRetryable, type Trx } from "../storage/withTransaction.js";
import { failed, type ApplyContext, type ApplyResult } from "./ApplyResult.js";
import { applyChargeback, applyChargebackWon } from "./applyChargeback.js";
import { applyCredit, applyCredits, type Credit, type CreditReads } from "./applyCredit.js";
import { applyRefund } from "./applyRefund.js";
import { readStoredDelivery } from "./readStoredDelivery.js";
import { unreachable } from "../unreachable.js";

export type StoredEvent = Selectable<WebhookEventsTable>;

export interface ApplyOptions {
  now: Date;
  reversalPolicy: ReversalPolicy;
}

/** Parked events one batch can release; a chain longer than this waits for a replay. */
const MAX_RELEASED = 1_000;

/** A stored event to apply, with the clock of its application. */
export interface StoredItem {
  row: StoredEvent;
  options: ApplyOptions;
  /** The delivery already read from `row.raw_body`, so ingest does not read it twice. */
  read?: ReadDelivery;
}

/**
 * Applies one stored event through the ledger and records the outcome on its row;
 * then applies, in arrival order, every parked event that was waiting for what it
 * landed. This is the live path: ingest calls it right after storing a delivery,
 * and a replay calls it with a row read back from `webhook_events`. Applying an
 * event twice changes nothing the second time (every entry has a business key).
 *
 * It throws only for bugs and database failures; the caller's transaction then rolls
 * back (ingest stores the delivery alone as failed `internal_error`).
 */
export async function applyStoredEvent(trx: Trx, row: StoredEvent, options: ApplyOptions, read?: ReadDelivery): Promise<ApplyResult> {
  const [result] = await applyStoredEvents(trx, [{ row, options, ...(read ? { read } : {}) }]);
  return result!;
}

/**
 * `applyStoredEvent` for a batch (a replay batch). Purchases are credited together
 * (`applyCredits`) and their outcomes recorded with one statement; then every other
 * event is applied one by one in the batch's order. The batch's events arrived together,
 * so crediting first is one of the orders they could have arrived in; a refund of a
 * purchase in the same batch then finds it instead of parking.
 */
export async function applyStoredEvents(trx: Trx, items: readonly StoredItem[]): Promise<ApplyResult[]> {
  const toApply = items.map(({ row, options, read }): EventToApply => ({ provider: row.provider, eventId: row.event_id, rawBody: row.raw_body, options, ...(read ? { read } : {}) }));
  return applyEvents(trx, toApply, (indexes, results) =>
    recordAll(trx, indexes.map((index) => ({ row: items[index]!.row, options: items[index]!.options, result: results[index]! }))),
  );
}

/** An event to apply: a stored row's, or a delivery's that is stored with its outcome once applied (`storeDeliveries`). */
export interface EventToApply {
  provider: string;
  eventId: string;
  rawBody: Uint8Array;
  options: ApplyOptions;
  read?: ReadDelivery;
}

/** What the caller of `applyEvents` already did or read for the batch, under the locks of every purchase it credits. */
export interface BatchReads {
  /** It holds the locks of every purchase the items credit. */
  refsLocked?: boolean;
  /** It read what crediting them reads (`creditReads`), after those locks. */
  reads?: CreditReads;
  /** It found no parked event waiting for any purchase the items credit. */
  noneParked?: boolean;
  /**
   * Where nothing needs the purchase records before the caller's next write (no parked
   * event to release, no refund or chargeback among the items), they are added here for
   * the caller to insert with that write.
   */
  purchasesLater?: WebhookPurchaseRow[];
}

/**
 * Applies a batch as `applyStoredEvents` does, calling `record` with the indexes whose
 * outcomes are decided, before the parked events they release are applied. A delivery
 * not yet stored is never among the parked events it could release: deliveries wait only
 * for purchases, and every purchase of the batch is credited before any other event.
 */
export async function applyEvents(
  trx: Trx,
  items: readonly EventToApply[],
  record: (indexes: number[], results: readonly ApplyResult[]) => Promise<void>,
  batch: BatchReads = {},
): Promise<ApplyResult[]> {
  const prepared = items.map(prepare);
  const results: ApplyResult[] = new Array(items.length);
  const creditIndexes: number[] = [];
  const credits: Credit[] = [];
  const settled: number[] = [];
  for (const [index, step] of prepared.entries()) {
    if ("result" in step) {
      results[index] = step.result;
      settled.push(index);
    } else if (step.event.kind === "credit") {
      creditIndexes.push(index);
      credits.push({ provider: step.provider, event: step.event, context: step.context });
    }
  }
  const onlyCredits = settled.length + creditIndexes.length === items.length;
  const purchasesLater = batch.noneParked && onlyCredits ? batch.purchasesLater : undefined;
  const credited = await applyCredits(trx, credits, batch.refsLocked ?? false, batch.reads, purchasesLater);
  creditIndexes.forEach((index, position) => {
    results[index] = credited[position]!;
  });
  await record([...settled, ...creditIndexes], results);
  if (creditIndexes.length > 0 && !batch.noneParked) await releaseParked(trx, landedBy(credited), items[creditIndexes.at(-1)!]!.options);

  for (const [index, step] of prepared.entries()) {
    if ("result" in step || step.event.kind === "credit") continue;
    const item = items[index]!;
    results[index] = await applyEvent(trx, step.provider, step.event, step.context);
    await record([index], results);
    await releaseParked(trx, landedBy([results[index]!]), item.options);
  }
  return results;
}

function landedBy(results: readonly ApplyResult[]): string[] {
  return results.flatMap((result) => (result.status === "processed" ? result.landed : []));
}

/** Applies, in arrival order, the parked events waiting for `landed`, and what those land in turn. */
async function releaseParked(trx: Trx, landed: string[], options: ApplyOptions): Promise<void> {
  let released = 0;
  while (landed.length > 0 && released < MAX_RELEASED) {
    const waiting: StoredEvent[] = [];
    for (const chunk of statementChunks([...new Set(landed)], 1)) {
      waiting.push(
        ...(await trx
          .selectFrom("webhook_events")
          .selectAll()
          .where("status", "=", "parked")
          .where("waiting_for", "in", chunk)
          .orderBy("id")
          .limit(MAX_RELEASED - released)
          .execute()),
      );
    }
    waiting.sort((a, b) => a.id - b.id);
    landed = [];
    for (const parked of waiting.slice(0, MAX_RELEASED - released)) {
      const result = await applyIsolated(trx, parked, options);
      released++;
      if (result.status === "processed") landed.push(...result.landed);
    }
  }
}

/**
 * A released parked event, inside a savepoint: a bug in applying it fails that event,
 * not the purchase that released it.
 */
async function applyIsolated(trx: Trx, row: StoredEvent, options: ApplyOptions): Promise<ApplyResult> {
  await sql`savepoint apply_parked`.execute(trx);
  let result: ApplyResult;
  try {
    const step = prepare({ provider: row.provider, eventId: row.event_id, rawBody: row.raw_body, options });
    result = "result" in step ? step.result : await applyEvent(trx, step.provider, step.event, step.context);
    await sql`release savepoint apply_parked`.execute(trx);
  } catch (error) {
    await sql`rollback to savepoint apply_parked`.execute(trx);
    await sql`release savepoint apply_parked`.execute(trx);
    // A concurrent writer forced this: the whole transaction runs again, the event does not fail.
    if (isRetryable(error)) throw error;
    result = failed("internal_error", (error as Error).message.slice(0, 500));
  }
  await recordAll(trx, [{ row, options, result }]);
  return result;
}

/** The columns of an event's row that say what applying it did, at `now`. */
export function outcomeColumns(result: ApplyResult, now: Date) {
  return {
    status: result.status,
    failure_reason: result.status === "failed" || result.status === "ignored" ? result.reason : null,
    failure_detail: result.status === "failed" ? result.detail : null,
    waiting_for: result.status === "parked" ? result.waitingFor : null,
    processed_at: now.toISOString(),
  };
}

/** Writes each application's outcome on its event's row, with one statement per chunk. */
async function recordAll(trx: Trx, outcomes: { row: StoredEvent; options: ApplyOptions; result: ApplyResult }[]): Promise<void> {
  for (const chunk of statementChunks(outcomes, 6)) {
    const values = valuesTable(
      trx,
      ["bigint", "text", "text", "text", "text", "timestamptz"],
      chunk.map(({ row, options, result }) => {
        const columns = outcomeColumns(result, options.now);
        return [row.id, columns.status, columns.failure_reason, columns.failure_detail, columns.waiting_for, columns.processed_at];
      }),
    );
    await sql`update webhook_events set status = v.column2, failure_reason = v.column3, failure_detail = v.column4,
      waiting_for = v.column5, processed_at = v.column6, attempts = attempts + 1
      from ${values} where webhook_events.id = v.column1`.execute(trx);
  }
}

type Prepared =
  /** Settled without the ledger: an unknown provider, an unreadable payload, an ignored type. */
  | { result: ApplyResult }
  | { provider: Provider; event: PaymentEvent; context: ApplyContext };

function prepare(item: EventToApply): Prepared {
  if (!PROVIDERS.includes(item.provider as Provider)) return { result: failed("invalid_payload", `unknown provider ${item.provider}`) };
  const provider = item.provider as Provider;
  const { event } = item.read ?? readStoredDelivery(provider, item.rawBody);
  if (event.kind === "invalid_payload") return { result: failed("invalid_payload", event.detail) };
  if (event.kind === "ignored") return { result: { status: "ignored", reason: event.reason } };
  return { provider, event, context: { ...item.options, sourceRef: `${provider}:${item.eventId}` } };
}

/**
 * Applies an event that has no stored delivery (a provider finding an admin resolves)
 * through the same functions a webhook's event goes through, then releases what it landed.
 */
export async function applyPaymentEvent(trx: Trx, provider: Provider, event: PaymentEvent, context: ApplyContext): Promise<ApplyResult> {
  const result = await applyEvent(trx, provider, event, context);
  await releaseParked(trx, landedBy([result]), { now: context.now, reversalPolicy: context.reversalPolicy });
  return result;
}

function applyEvent(trx: Trx, provider: Provider, event: PaymentEvent, context: ApplyContext): Promise<ApplyResult> {
  switch (event.kind) {
    case "credit":
      return applyCredit(trx, provider, event, context);
    case "refund":
      return applyRefund(trx, event, context);
    case "chargeback":
      return applyChargeback(trx, event, context);
    case "chargeback_won":
      return applyChargebackWon(trx, event, context);
    case "ignored":
      return Promise.resolve({ status: "ignored", reason: event.reason });
  }
  return unreachable(event, "payment event");
}

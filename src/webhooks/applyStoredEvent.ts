import { sql, type Selectable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import { PROVIDERS, type Provider, type ReadDelivery } from "../providers/PaymentEvent.js";
import type { WebhookEventsTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { failed, type ApplyContext, type ApplyResult } from "./ApplyResult.js";
import { applyChargeback, applyChargebackWon } from "./applyChargeback.js";
import { applyCredit } from "./applyCredit.js";
import { applyRefund } from "./applyRefund.js";
import { readStoredDelivery } from "./readStoredDelivery.js";

export type StoredEvent = Selectable<WebhookEventsTable>;

export interface ApplyOptions {
  now: Date;
  reversalPolicy: ReversalPolicy;
}

/** Parked events a landing can release in one go; a chain longer than this waits for a replay. */
const MAX_RELEASED = 1_000;

/**
 * Applies one stored event through the ledger and records the outcome on its row;
 * then applies, in arrival order, every parked event that was waiting for what it
 * landed. This is the live path: ingest calls it right after storing a delivery,
 * and a replay calls it with a row read back from `webhook_events`. Applying an
 * event twice changes nothing the second time (every entry has a business key).
 *
 * It throws only for bugs and database failures; the caller's transaction then rolls
 * back (ingest stores the delivery alone as failed `internal_error`). `read` is the
 * delivery already read from `row.raw_body`, so ingest does not read it twice.
 */
export async function applyStoredEvent(
  trx: Trx,
  row: StoredEvent,
  options: ApplyOptions,
  read?: ReadDelivery,
): Promise<ApplyResult> {
  const first = await record(trx, row, options, await applyRow(trx, row, options, read));
  let landed = first.status === "processed" ? [...first.landed] : [];
  let released = 0;
  while (landed.length > 0 && released < MAX_RELEASED) {
    const waiting = await trx
      .selectFrom("webhook_events")
      .selectAll()
      .where("status", "=", "parked")
      .where("waiting_for", "in", landed)
      .orderBy("id")
      .limit(MAX_RELEASED - released)
      .execute();
    landed = [];
    for (const parked of waiting) {
      const result = await applyIsolated(trx, parked, options);
      released++;
      if (result.status === "processed") landed.push(...result.landed);
    }
  }
  return first;
}

/**
 * A released parked event, inside a savepoint: a bug in applying it fails that event,
 * not the purchase that released it.
 */
async function applyIsolated(trx: Trx, row: StoredEvent, options: ApplyOptions): Promise<ApplyResult> {
  await sql`savepoint apply_parked`.execute(trx);
  let result: ApplyResult;
  try {
    result = await applyRow(trx, row, options);
    await sql`release savepoint apply_parked`.execute(trx);
  } catch (error) {
    await sql`rollback to savepoint apply_parked`.execute(trx);
    await sql`release savepoint apply_parked`.execute(trx);
    if (isRetryable(error)) throw error;
    result = failed("internal_error", (error as Error).message.slice(0, 500));
  }
  return record(trx, row, options, result);
}

/** Writes an application's outcome on the event's row. */
async function record(trx: Trx, row: StoredEvent, options: ApplyOptions, result: ApplyResult): Promise<ApplyResult> {
  await trx
    .updateTable("webhook_events")
    .set((eb) => ({
      status: result.status,
      failure_reason: result.status === "failed" ? result.reason : result.status === "ignored" ? result.reason : null,
      failure_detail: result.status === "failed" ? result.detail : null,
      waiting_for: result.status === "parked" ? result.waitingFor : null,
      processed_at: options.now.toISOString(),
      attempts: eb("attempts", "+", 1),
    }))
    .where("id", "=", row.id)
    .execute();
  return result;
}

async function applyRow(trx: Trx, row: StoredEvent, options: ApplyOptions, given?: ReadDelivery): Promise<ApplyResult> {
  if (!PROVIDERS.includes(row.provider as Provider)) return failed("invalid_payload", `unknown provider ${row.provider}`);
  const provider = row.provider as Provider;
  const read = given ?? readStoredDelivery(provider, row.raw_body);
  const context: ApplyContext = { ...options, sourceRef: `${provider}:${row.event_id}` };
  return applyEvent(trx, provider, read.event, context);
}

function applyEvent(trx: Trx, provider: Provider, event: ReadDelivery["event"], context: ApplyContext): Promise<ApplyResult> | ApplyResult {
  switch (event.kind) {
    case "invalid_payload":
      return failed("invalid_payload", event.detail);
    case "ignored":
      return { status: "ignored", reason: event.reason };
    case "credit":
      return applyCredit(trx, provider, event, context);
    case "refund":
      return applyRefund(trx, event, context);
    case "chargeback":
      return applyChargeback(trx, event, context);
    case "chargeback_won":
      return applyChargebackWon(trx, event, context);
    default: {
      const never: never = event;
      throw new Error(`unhandled payment event ${JSON.stringify(never)}`);
    }
  }
}

/** A concurrent writer forced this; the whole transaction must run again, not fail the event. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "40001" || code === "40P01" || code === "23505" || code === "SQLITE_BUSY";
}

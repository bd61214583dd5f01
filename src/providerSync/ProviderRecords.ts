import type { PaymentEvent, Provider } from "../providers/PaymentEvent.js";

/**
 * Terminology for provider sync (issue 15).
 *
 * - A *provider client* reads what a payment provider itself recorded for a *window*
 *   of time and yields it as provider-neutral *records*, one page at a time.
 * - A *record* is one delivery the provider tried to send, one purchase, one refund or
 *   one chargeback, named with the same references and ledger keys the provider's
 *   webhook reader (`src/providers/<p>/read<P>Delivery.ts`) produces, so the sync can
 *   look each one up in what Reckon holds without knowing the provider.
 * - A *finding* is one difference between the records and Reckon (`FindingKind`).
 *
 * The client does I/O and parsing only; comparing, deciding and repairing are the
 * sync core's. Every value here is plain data (JSON-safe except `payload`), and money
 * is integer minor units.
 *
 * This file is a contract shared by every provider's client: change it additively.
 */

/** The half-open time range `[from, to)` a run reads, as ISO-8601 UTC strings (`…T00:00:00.000Z`). */
export interface SyncWindow {
  from: string;
  to: string;
}

/**
 * A delivery the provider made or tried to make to Reckon's webhook endpoint: for
 * PayNow a webhook history entry, for Stripe an event listed with
 * `delivery_success: false`.
 *
 * The sync stores `payload` as an imported delivery (`webhook_events.imported = 1`)
 * when Reckon holds no event with this `eventId`, and applies it exactly like a
 * webhook, so the bytes must be what `readStoredDelivery(provider, payload)` reads:
 * - PayNow: the history entry's `payload` object serialised with `JSON.stringify`
 *   (the envelope `{event_type, event_id, body}` as it would have been sent).
 * - Stripe: the event object (`{id:"evt_…", object:"event", type, livemode, created,
 *   data:{object}}`) serialised with `JSON.stringify`; for a raw HTTP answer, the
 *   event's own JSON text.
 * `eventId` must equal the id that reader returns (PayNow `event_id`, Stripe `evt_…`).
 */
export interface DeliveryRecord {
  kind: "delivery";
  eventId: string;
  /** The payload's own type (`ON_ORDER_COMPLETED`, `checkout.session.completed`), not a history label. */
  eventType: string;
  /** The provider's delivery state: `failed` and `pending` are what sync is for; `succeeded` is allowed and cross-checked. */
  state: "failed" | "pending" | "succeeded";
  /** When the provider says the event happened (ISO-8601 UTC); stored as the event's `received_at`. */
  occurredAt: string;
  /** The exact bytes to store and replay (see above). */
  payload: Uint8Array;
}

/**
 * What a provider says about one purchase (a PayNow order, a Stripe checkout session).
 *
 * `credit` is the credit event a webhook for this purchase would produce, minus the
 * user id, so an admin who supplies the uid (`reckon provider resolve FINDING --uid U`)
 * credits exactly what the webhook would have: same `purchaseKey`, same `purchaseRefs`,
 * same lines and paid amount. Build it with the same rules as the provider's webhook
 * reader (PayNow: `paynow:order:<id>`; Stripe: `stripe:checkout:<cs_id>` then
 * `stripe:payment_intent:<pi_id>` when known; lines as the reader builds them).
 */
export interface PurchaseRecord {
  kind: "purchase";
  /** The provider's own id of the purchase (PayNow order id, Stripe `cs_…`), for people. */
  providerId: string;
  credit: Omit<Extract<PaymentEvent, { kind: "credit" }>, "kind" | "uid">;
  /** The user id when the provider's list carries it (Stripe `client_reference_id` / `metadata.uid`); null when it does not (PayNow orders). */
  uid: string | null;
  /**
   * `paid`: money was taken and the purchase stands or stood (PayNow `completed`,
   * `refunded`, `chargeback`; Stripe `status: complete` and `payment_status: paid`).
   * `unpaid`: not (yet) paid (PayNow `created`; Stripe `unpaid`, `open`).
   * `canceled`: the provider says it never completed (PayNow `canceled`; Stripe `expired`).
   */
  status: "paid" | "unpaid" | "canceled";
  /** The provider's status word as it answered, for the finding's detail. */
  providerStatus: string;
  currency: string;
  /** When it was paid (or created, if unpaid), ISO-8601 UTC. */
  occurredAt: string;
}

/** One refund of a purchase, as the provider records it. */
export interface RefundRecord {
  kind: "refund";
  /** The ledger key the webhook reader gives this refund: `paynow:refund:<id>`, `stripe:refund:<re_id>`. */
  refundKey: string;
  /** The purchase reference the webhook reader would use to find the purchase (`paynow:order:<id>`, `stripe:payment_intent:<pi_id>`). */
  purchaseRef: string;
  /** Money refunded, minor units (PayNow `store_refund_amount`, Stripe `amount`). */
  refundedMinor: number;
  /** Only `completed` reverses points (PayNow `completed`; Stripe `succeeded`). */
  status: "completed" | "pending" | "failed" | "canceled";
  providerStatus: string;
  occurredAt: string;
}

/**
 * One chargeback (dispute) of a purchase. `open` and `lost` mean the points must be
 * reversed under `reversalKey`; `won` means they must also be restored under
 * `reinstatementKey`. Keys as the webhook reader gives them (PayNow
 * `paynow:chargeback:<payment id>:ON_CHARGEBACK` / `…:ON_CHARGEBACK_CLOSED`; Stripe
 * `stripe:dispute:<dp_id>:reversal` / `…:reinstatement`). A payment with no
 * chargeback (PayNow `chargeback_status: none`) yields no record.
 */
export interface ChargebackRecord {
  kind: "chargeback";
  reversalKey: string;
  reinstatementKey: string;
  purchaseRef: string;
  amountMinor: number;
  status: "open" | "won" | "lost";
  providerStatus: string;
  occurredAt: string;
}

/**
 * An item the provider answered that does not parse (a missing or mistyped field). It
 * never credits anything: the sync stores it as a `malformed_record` finding. A page
 * that does not parse at all is a `ProviderReadFailure` instead.
 */
export interface MalformedRecord {
  kind: "malformed";
  /** Which list it came from (`orders`, `payments`, `webhook_history`, `events`, …). */
  source: string;
  /** The item's id if one could be read, else a position such as `page 3 item 7`. */
  subject: string;
  /** What was wrong, for people (a zod issue summary); no secrets. */
  detail: string;
}

export type ProviderRecord = DeliveryRecord | PurchaseRecord | RefundRecord | ChargebackRecord | MalformedRecord;

/**
 * Where a client is in its walk of one window. Opaque to the sync core, which stores
 * it on the run (`data_migrations.cursor`) after each page and hands it back to resume.
 * JSON-safe, at most 2,000 characters.
 */
export type SyncCursor = string;

/** Why a read stopped. `retryable` failures leave the run `failed` with its cursor, to resume. */
export interface ProviderReadFailure {
  /**
   * `rate_limited` (429), `server_error` (5xx), `timeout`, `network`: retryable.
   * `unauthorized` (401/403: bad or missing key), `bad_request` (other 4xx),
   * `malformed_response` (a page that is not the documented shape): permanent.
   */
  code: "rate_limited" | "server_error" | "timeout" | "network" | "unauthorized" | "bad_request" | "malformed_response";
  retryable: boolean;
  /** For people: what was asked and what came back (status, the provider's error code); never the key. */
  message: string;
  /** The HTTP status when there was one. */
  status?: number;
}

export type PageResult =
  /** `next` is null when the window is fully read. */
  | { ok: true; records: ProviderRecord[]; next: SyncCursor | null }
  | { ok: false; failure: ProviderReadFailure };

/**
 * A client of one provider's API. Contract:
 *
 * - `readPage(window, null)` starts a walk; `readPage(window, next)` continues it. The
 *   same window and cursor give the same records (within what the provider changed).
 * - Order: every `delivery` record of the window comes before any other record
 *   (the sync imports deliveries first so that a purchase, refund or chargeback they
 *   repair is not also reported as missing). After that, any order.
 * - Which records belong to a window is the client's rule, since providers filter
 *   differently (Stripe lists by `created`; PayNow walks ids by Snowflake time, and a
 *   payment's refunds and chargeback come with the payment). Each record is yielded by
 *   at most one window's walk as far as the client can tell; a repeat is harmless (the
 *   sync is idempotent). The sync uses `occurredAt` only to date a finding.
 * - Retries: the client retries a retryable failure itself, with bounded exponential
 *   backoff (and a per-request timeout); `{ ok: false }` means it gave up. It never
 *   throws for HTTP or parse problems; a throw is a bug.
 * - A page holds at most a few hundred records.
 */
export interface ProviderClient {
  readonly provider: Provider;
  readPage(window: SyncWindow, cursor: SyncCursor | null): Promise<PageResult>;
  /**
   * One purchase by a reference the webhook reader produced (`paynow:order:<id>`,
   * `stripe:checkout:<cs_id>` or `stripe:payment_intent:<pi_id>`), for credits Reckon
   * holds whose purchase the window walk did not list. `null`: the provider does not
   * know it (a `credited_not_paid` finding).
   */
  readPurchase(purchaseRef: string): Promise<{ ok: true; purchase: PurchaseRecord | null } | { ok: false; failure: ProviderReadFailure }>;
}

/**
 * The closed set of differences a sync reports. For each, what the sync does:
 *
 * - `missing_delivery`: the provider has a delivery (with payload) whose event id Reckon
 *   never stored. Repaired: stored as imported and applied through the live path.
 * - `paid_not_credited`: a paid purchase with no credit in Reckon: no delivery to
 *   import, or one whose payload names no usable user (one finding per sale). Open
 *   until `reckon provider resolve FINDING --uid U` credits it (or the uid came with the
 *   record, then repaired through the same path).
 * - `refund_not_reversed`: a completed refund Reckon never applied, with no delivery
 *   to import. Repaired through the same refund path when the purchase is credited;
 *   otherwise open.
 * - `chargeback_not_reversed`: an open or lost chargeback never applied, no delivery.
 *   Repaired like a refund.
 * - `chargeback_won_not_restored`: a won chargeback whose restoration Reckon never
 *   applied, no delivery. Repaired like a refund.
 * - `amount_mismatch`: Reckon credited the purchase for a different paid amount than
 *   the provider's. Reported only.
 * - `credited_not_paid`: a credit whose purchase the provider does not know or shows
 *   as canceled/unpaid. Reported only, never healed automatically.
 * - `user_unknown`: no longer produced (such a sale is one `paid_not_credited`); kept
 *   for findings stored before, which are resolved with `--uid`.
 * - `malformed_record`: the provider answered an item Reckon cannot read. Reported only.
 */
export const FINDING_KINDS = [
  "missing_delivery",
  "paid_not_credited",
  "refund_not_reversed",
  "chargeback_not_reversed",
  "chargeback_won_not_restored",
  "amount_mismatch",
  "credited_not_paid",
  "user_unknown",
  "malformed_record",
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/**
 * `open`: needs a person (or a later sync). `repaired`: a sync applied it through the
 * live path. `resolved`: an admin acted on it, or a later sync found its cause fixed
 * (`close_reason`; audited either way). `reported`: kinds that are never healed, kept as
 * a standing report.
 */
export const FINDING_STATUSES = ["open", "repaired", "resolved", "reported"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

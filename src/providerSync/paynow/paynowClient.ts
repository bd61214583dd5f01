import { z } from "zod";
import { describeIssue } from "../../providers/invalidDelivery.js";
import { DEFAULT_RETRY, fetchJsonWithRetry, type RetryPolicy } from "../fetchWithRetry.js";
import type { PageResult, ProviderClient, ProviderReadFailure, ProviderRecord, PurchaseRecord, SyncWindow } from "../ProviderRecords.js";
import { firstSnowflakeAt, HistoryEntry, HistoryPage, OrderDto, PaymentDto, snowflakeTimeMs, WebhookSubscription } from "./paynowDtos.js";
import { purchaseOf, reversalsOf } from "./paynowRecords.js";

export interface PaynowApiSettings {
  apiKey: string;
  storeId: string;
  /** `https://api.paynow.gg`, or a local fake's address. */
  apiUrl: string;
  retry?: Partial<RetryPolicy>;
}

/** Items per page; PayNow accepts 1–100. */
const PAGE_LIMIT = 100;
/** Bounds a history walk of one subscription, whose pages have no date filter. */
const MAX_HISTORY_PAGES = 10_000;
const HISTORY_STATES = ["failed", "pending"] as const;

/**
 * Where a walk stands. Deliveries first (each subscription's failed, then pending
 * history), then orders by id over the window's Snowflake range, then payments the same way.
 */
const Cursor = z.discriminatedUnion("stage", [
  z.object({ stage: z.literal("history"), webhooks: z.array(z.string()), index: z.number().int(), state: z.number().int(), page: z.number().int() }),
  z.object({ stage: z.literal("orders"), after: z.string() }),
  z.object({ stage: z.literal("payments"), after: z.string() }),
]);
type Cursor = z.infer<typeof Cursor>;

const malformedPage = (what: string, detail: string): PageResult => ({
  ok: false,
  failure: { code: "malformed_response", retryable: false, message: `${what}: ${detail}` },
});

/** A typed client of PayNow's Management API (`Authorization: APIKey …`), as a provider sync client. */
export function paynowClient(settings: PaynowApiSettings): ProviderClient {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...settings.retry };
  const base = `${settings.apiUrl.replace(/\/+$/, "")}/v1/stores/${encodeURIComponent(settings.storeId)}`;
  const get = (path: string) => fetchJsonWithRetry(`${base}${path}`, { authorization: `APIKey ${settings.apiKey}` }, retry);

  async function walkById(stage: "orders" | "payments", window: SyncWindow, after: string): Promise<PageResult> {
    const end = firstSnowflakeAt(Date.parse(window.to));
    const filter = stage === "orders" ? ["completed", "refunded", "chargeback", "canceled"].map((s) => `&status=${s}`).join("") : "";
    const answer = await get(`/${stage}?limit=${PAGE_LIMIT}&asc=true&after=${after}${filter}`);
    if (!answer.ok) return answer;
    const items = z.array(z.unknown()).safeParse(answer.json);
    if (!items.success) return malformedPage(stage, "not an array");
    const records: ProviderRecord[] = [];
    let last = after;
    let done = items.data.length < PAGE_LIMIT;
    for (const [position, item] of items.data.entries()) {
      const id = z.object({ id: z.string().regex(/^\d{1,20}$/) }).safeParse(item);
      if (!id.success) return malformedPage(stage, `item ${position} has no readable id`);
      if (BigInt(id.data.id) <= BigInt(last)) return malformedPage(stage, "ids do not ascend");
      last = id.data.id;
      if (BigInt(id.data.id) >= end) {
        done = true;
        break;
      }
      if (stage === "orders") {
        const order = OrderDto.safeParse(item);
        records.push(order.success ? purchaseOf(order.data) : { kind: "malformed", source: "orders", subject: id.data.id, detail: describeIssue(order.error) });
      } else {
        const payment = PaymentDto.safeParse(item);
        records.push(...(payment.success ? reversalsOf(payment.data) : [{ kind: "malformed" as const, source: "payments", subject: id.data.id, detail: describeIssue(payment.error) }]));
      }
    }
    if (!done) return { ok: true, records, next: JSON.stringify({ stage, after: last } satisfies Cursor) };
    const next: Cursor | null = stage === "orders" ? { stage: "payments", after: startAfter(window) } : null;
    return { ok: true, records, next: next === null ? null : JSON.stringify(next) };
  }

  async function walkHistory(window: SyncWindow, at: Extract<Cursor, { stage: "history" }>): Promise<PageResult> {
    const webhookId = at.webhooks[at.index];
    if (webhookId === undefined || at.page > MAX_HISTORY_PAGES) {
      return { ok: true, records: [], next: JSON.stringify({ stage: "orders", after: startAfter(window) } satisfies Cursor) };
    }
    const state = HISTORY_STATES[at.state]!;
    const answer = await get(`/webhooks/${webhookId}/history?page=${at.page}&state=${state}`);
    if (!answer.ok) return answer;
    const page = HistoryPage.safeParse(answer.json);
    if (!page.success) return malformedPage("webhook history", describeIssue(page.error));
    const records: ProviderRecord[] = [];
    for (const [position, item] of page.data.history.entries()) records.push(...deliveryOf(item, window, `webhook ${webhookId} page ${at.page} item ${position}`));
    const next: Cursor =
      page.data.history.length > 0
        ? { ...at, page: at.page + 1 }
        : at.state + 1 < HISTORY_STATES.length
          ? { ...at, state: at.state + 1, page: 1 }
          : { ...at, index: at.index + 1, state: 0, page: 1 };
    return { ok: true, records, next: JSON.stringify(next) };
  }

  return {
    provider: "paynow",
    async readPage(window, cursor) {
      let at: Cursor;
      if (cursor === null) {
        const answer = await get("/webhooks");
        if (!answer.ok) return answer;
        const list = z.array(WebhookSubscription).safeParse(answer.json);
        if (!list.success) return malformedPage("webhooks", describeIssue(list.error));
        at = { stage: "history", webhooks: list.data.map((hook) => hook.id), index: 0, state: 0, page: 1 };
      } else {
        const parsed = Cursor.safeParse(safeJson(cursor));
        if (!parsed.success) return { ok: false, failure: { code: "bad_request", retryable: false, message: "the run's cursor is not a PayNow sync cursor" } };
        at = parsed.data;
      }
      return at.stage === "history" ? walkHistory(window, at) : walkById(at.stage, window, at.after);
    },
    async readPurchase(purchaseRef) {
      const id = /^paynow:order:(\d{1,20})$/.exec(purchaseRef)?.[1];
      if (id === undefined) return { ok: true, purchase: null };
      const answer = await get(`/orders?limit=1&order_id=${id}`);
      if (!answer.ok) return answer;
      const items = z.array(z.unknown()).safeParse(answer.json);
      if (!items.success) return { ok: false, failure: malformed("orders", "not an array") };
      const found = items.data.map((item) => OrderDto.safeParse(item)).find((order) => order.success && order.data.id === id);
      return { ok: true, purchase: found?.success ? (purchaseOf(found.data) satisfies PurchaseRecord) : null };
    },
  };
}

function malformed(what: string, detail: string): ProviderReadFailure {
  return { code: "malformed_response", retryable: false, message: `${what}: ${detail}` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The `after` that starts an id walk at the window's first Snowflake. */
function startAfter(window: SyncWindow): string {
  const first = firstSnowflakeAt(Date.parse(window.from));
  return String(first === 0n ? 0n : first - 1n);
}

/** A history entry of the window as a delivery record; outside the window, none; unreadable, a malformed record. */
function deliveryOf(item: unknown, window: SyncWindow, position: string): ProviderRecord[] {
  const entry = HistoryEntry.safeParse(item);
  if (!entry.success) return [{ kind: "malformed", source: "webhook_history", subject: position, detail: describeIssue(entry.error) }];
  const time = Date.parse(entry.data.created_at);
  if (time < Date.parse(window.from) || time >= Date.parse(window.to)) return [];
  const text = typeof entry.data.payload === "string" ? entry.data.payload : JSON.stringify(entry.data.payload);
  const envelope = z.object({ event_id: z.string().min(1), event_type: z.string().min(1) }).safeParse(safeJson(text));
  if (!envelope.success) return [{ kind: "malformed", source: "webhook_history", subject: entry.data.id, detail: "payload has no event_id and event_type" }];
  return [
    {
      kind: "delivery",
      eventId: envelope.data.event_id,
      eventType: envelope.data.event_type,
      state: entry.data.state === "success" ? "succeeded" : entry.data.state,
      occurredAt: new Date(time).toISOString(),
      payload: Buffer.from(text, "utf8"),
    },
  ];
}


import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakePaynowStore } from "./fakePaynowStore.js";

/**
 * PayNow's Management API over a FakePaynowStore, on loopback: the list routes provider
 * sync reads, in the documented shapes, with `Authorization: APIKey …`, pagination by
 * id (`limit` 1–100, `after`, `before`, `asc`), history by page, and faults on request:
 * the next N answers can be 429 or 500, or never come (a request timeout).
 */

export type Fault = "429" | "500" | "hang";

export interface FakePaynowApi {
  url: string;
  apiKey: string;
  /** Requests answered (faults included), for tests that count retries. */
  readonly requests: { path: string; status: number | "hang" }[];
  /** After `afterRequests` more requests are answered, the next `count` get `fault` instead of an answer. */
  failNext(fault: Fault, count?: number, afterRequests?: number): void;
  close(): Promise<void>;
}

const HISTORY_PAGE_SIZE = 50;

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function error(response: ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { status, code, message, trace_id: null });
}

/**
 * Ids compare as integers (they do not fit in a JS number): for digit strings without
 * leading zeros, the shorter is smaller, and equal lengths compare as text.
 */
const compareIds = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: { id: string }, b: { id: string }) => compareIds(a.id, b.id);

/**
 * Each list sorted by id, kept while the list holds the same items with the same ids
 * (checked item by item, far cheaper than sorting again), so a walk over 100,000
 * orders (bench/providerSync.ts) does not sort them for every page of 100.
 */
const SORTED = new WeakMap<readonly unknown[], { items: readonly { id: string }[]; ids: string[]; sorted: readonly unknown[] }>();
function sortedById<T extends { id: string }>(items: readonly T[]): readonly T[] {
  const kept = SORTED.get(items);
  if (kept && kept.items.length === items.length && items.every((item, index) => item === kept.items[index] && item.id === kept.ids[index])) {
    return kept.sorted as readonly T[];
  }
  const sorted = [...items].sort(byId);
  SORTED.set(items, { items: [...items], ids: items.map((item) => item.id), sorted });
  return sorted;
}

/** The first position in `sorted` whose id is above `id` (`orEqual`: at or above). */
function positionAbove(sorted: readonly { id: string }[], id: string, orEqual: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareIds(sorted[middle]!.id, id);
    if (order > 0 || (orEqual && order === 0)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** A page of the items `keep` accepts, by id between `after` and `before`, ascending or (by default) descending. */
function idPage<T extends { id: string }>(items: readonly T[], query: URLSearchParams, keep: (item: T) => boolean): T[] | string {
  const limit = Number(query.get("limit") ?? "25");
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return "limit must be 1 to 100";
  const after = query.get("after")?.replace(/^0+(?=\d)/, "") ?? null;
  const before = query.get("before")?.replace(/^0+(?=\d)/, "") ?? null;
  if ((after !== null && !/^\d+$/.test(after)) || (before !== null && !/^\d+$/.test(before))) return "after and before are ids";
  const asc = query.get("asc") === "true";
  const sorted = sortedById(items);
  const page: T[] = [];
  const step = asc ? 1 : -1;
  let at = asc ? (after === null ? 0 : positionAbove(sorted, after, false)) : (after === null ? sorted.length : positionAbove(sorted, after, true)) - 1;
  for (; at >= 0 && at < sorted.length && page.length < limit; at += step) {
    const item = sorted[at]!;
    if (before !== null && compareIds(item.id, before) * step >= 0) break;
    if (keep(item)) page.push(item);
  }
  return page;
}

export async function startFakePaynowApi(store: FakePaynowStore, apiKey: string): Promise<FakePaynowApi> {
  const faults: (Fault | null)[] = [];
  const requests: FakePaynowApi["requests"] = [];
  const hanging = new Set<ServerResponse>();

  function route(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const auth = /^apikey\s+(.+)$/i.exec(request.headers.authorization ?? "");
    if (auth?.[1] !== apiKey) return error(response, 401, "unauthorized", "invalid API key");
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "v1" || parts[1] !== "stores") return error(response, 404, "not_found", "no such route");
    if (parts[2] !== store.storeId) return error(response, 404, "store_not_found", "no such store");
    const rest = parts.slice(3).join("/");
    const query = url.searchParams;
    if (request.method === "GET" && rest === "orders") {
      const statuses = query.getAll("status");
      const orderId = query.get("order_id");
      const page = idPage(store.orders, query, (order) => (statuses.length === 0 || statuses.includes(order.status)) && (orderId === null || order.id === orderId));
      return typeof page === "string" ? error(response, 400, "validation_error", page) : send(response, 200, page);
    }
    if (request.method === "GET" && rest === "payments") {
      const orderId = query.get("order_id");
      const page = idPage(store.payments, query, (payment) => orderId === null || payment.order_id === orderId);
      return typeof page === "string" ? error(response, 400, "validation_error", page) : send(response, 200, page);
    }
    if (request.method === "GET" && rest === "webhooks") {
      return send(response, 200, store.webhooks.map((hook) => ({ id: hook.id, store_id: store.storeId, event: hook.event, url: "http://reckon/api/webhooks/paynow" })));
    }
    const history = /^webhooks\/(\d+)\/history$/.exec(rest);
    if (request.method === "GET" && history) {
      const page = Number(query.get("page") ?? "1");
      const state = query.get("state") ?? "all";
      if (!Number.isInteger(page) || page < 1) return error(response, 400, "validation_error", "page starts at 1");
      const entries = store.history
        .filter((item) => item.webhook_id === history[1] && (state === "all" || item.state === state))
        .sort(byId)
        .reverse()
        .slice((page - 1) * HISTORY_PAGE_SIZE, page * HISTORY_PAGE_SIZE);
      return send(response, 200, { page, history: entries });
    }
    return error(response, 404, "not_found", "no such route");
  }

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const fault = faults.shift();
    if (fault === "hang") {
      requests.push({ path: url.pathname, status: "hang" });
      hanging.add(response);
      return;
    }
    if (fault === "429") {
      response.setHeader("retry-after", "0");
      requests.push({ path: url.pathname, status: 429 });
      return error(response, 429, "rate_limited", "slow down");
    }
    if (fault === "500") {
      requests.push({ path: url.pathname, status: 500 });
      return send(response, 500, {});
    }
    const end = response.end.bind(response);
    response.end = ((...args: Parameters<typeof end>) => {
      requests.push({ path: url.pathname, status: response.statusCode });
      return end(...args);
    }) as typeof response.end;
    route(request, response, url);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    failNext(fault, count = 1, afterRequests = 0) {
      faults.length = 0;
      for (let i = 0; i < afterRequests; i++) faults.push(null);
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

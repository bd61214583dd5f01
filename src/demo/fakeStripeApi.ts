import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeStripeAccount, type StripeListName, type StripeRecord } from "./fakeStripeAccount.js";
import { listPage, type StripeErrorAnswer } from "./fakeStripeListPage.js";

/**
 * A fault the fake answers with instead of (or before) the real answer: Stripe's 429 or
 * 5xx error bodies, an answer held back `delayMs` (the client's timeout fires first), or
 * a page whose objects lost their fields (a malformed answer).
 */
export type StripeFault = { kind: "status"; status: 429 | 500 | 502 | 503 } | { kind: "slow"; delayMs: number } | { kind: "malformed" };

export interface FaultRule {
  fault: StripeFault;
  /** How many matching requests it hits (Infinity: until cleared). */
  times: number;
  /** Only requests whose path starts with this (e.g. `/v1/refunds`). */
  path?: string;
  /** Matching requests answered normally before the fault starts (a walk that fails midway). */
  after?: number;
}

export interface FakeStripeApi {
  account: FakeStripeAccount;
  /** The secret key the fake accepts as `Authorization: Bearer …`. */
  apiKey: string;
  host: "127.0.0.1";
  port: number;
  /** `http://127.0.0.1:<port>`: the address to give a client instead of `https://api.stripe.com`. */
  url: string;
  /** Every request answered, in order, with the status sent (0 when the client hung up first). */
  requests: { path: string; status: number }[];
  fail(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const LISTS: Record<string, StripeListName> = {
  "/v1/events": "events",
  "/v1/checkout/sessions": "checkout/sessions",
  "/v1/refunds": "refunds",
  "/v1/disputes": "disputes",
};

const FAULT_BODIES: Record<429 | 500 | 502 | 503, StripeErrorAnswer["error"]> = {
  429: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests hit the API too quickly." },
  500: { type: "api_error", message: "An unknown error occurred" },
  502: { type: "api_error", message: "Bad gateway" },
  503: { type: "api_error", message: "The service is temporarily unavailable" },
};

/** A record with only its id and kind left, and a `created` that is not a time. */
const malformed = (record: StripeRecord) => ({ id: record.id, object: record.object, created: "malformed" });

/**
 * A local Stripe API for tests and the demo, spoken to by the official `stripe` package
 * via `new Stripe(apiKey, { host, port, protocol: "http" })`: the event, checkout session,
 * refund and dispute lists and retrieval by id, in Stripe's shapes, with Stripe's error
 * bodies, and faults on request.
 */
export async function startFakeStripeApi(options: { account?: FakeStripeAccount; livemode?: boolean; now?: () => Date } = {}): Promise<FakeStripeApi> {
  const account = options.account ?? new FakeStripeAccount({ livemode: options.livemode ?? false, ...(options.now ? { now: options.now } : {}) });
  const apiKey = `sk_${account.livemode ? "live" : "test"}_${randomBytes(24).toString("hex")}`;
  const rules: FaultRule[] = [];
  const requests: FakeStripeApi["requests"] = [];
  const timers = new Set<NodeJS.Timeout>();

  const send = (response: ServerResponse, path: string, status: number, body: unknown) => {
    const index = requests.push({ path, status: 0 }) - 1;
    if (response.destroyed) return;
    requests[index]!.status = status;
    response.writeHead(status, { "content-type": "application/json", "request-id": `req_${randomBytes(8).toString("hex")}` });
    response.end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, path: string, answer: StripeErrorAnswer) => send(response, path, answer.status, { error: answer.error });

  const takeFault = (path: string): StripeFault | undefined => {
    const rule = rules.find((candidate) => candidate.times > 0 && (candidate.path === undefined || path.startsWith(candidate.path)));
    if (!rule) return undefined;
    if (rule.after !== undefined && rule.after > 0) {
      rule.after -= 1;
      return undefined;
    }
    rule.times -= 1;
    return rule.fault;
  };

  function answer(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams, fault: StripeFault | undefined) {
    if (request.method !== "GET") return error(response, path, { status: 405, error: { type: "invalid_request_error", message: `Unrecognized request method: ${request.method}` } });
    if (fault?.kind === "status") return error(response, path, { status: fault.status, error: FAULT_BODIES[fault.status] });
    const list = LISTS[path];
    if (list) {
      const page = listPage(list, account.records(list), query, (eventId) => account.deliveryState(eventId), (id) => account.position(list, id));
      if ("error" in page) return error(response, path, page);
      return send(response, path, 200, fault?.kind === "malformed" ? { ...page, data: page.data.map(malformed) } : page);
    }
    const one = /^(\/v1\/(?:events|checkout\/sessions|refunds|disputes))\/([A-Za-z0-9_]+)$/.exec(path);
    const record = one ? account.find(LISTS[one[1]!]!, one[2]!) : undefined;
    if (record) return send(response, path, 200, fault?.kind === "malformed" ? malformed(record) : record);
    return error(response, path, { status: 404, error: { type: "invalid_request_error", code: "resource_missing", message: `No such object: '${path}'` } });
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      return error(response, path, { status: 401, error: { type: "invalid_request_error", message: "You did not provide an API key." } });
    }
    if (authorization !== `Bearer ${apiKey}`) {
      return error(response, path, { status: 401, error: { type: "invalid_request_error", code: "api_key_invalid", message: "Invalid API Key provided." } });
    }
    const fault = takeFault(path);
    if (fault?.kind !== "slow") return answer(request, response, path, url.searchParams, fault);
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer(request, response, path, url.searchParams, undefined);
    }, fault.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    account,
    apiKey,
    host: "127.0.0.1",
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (rule) => void rules.push({ ...rule }),
    clearFaults: () => void rules.splice(0),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

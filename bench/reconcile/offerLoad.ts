import http from "node:http";
import { PaynowLoad } from "../paynowLoad.js";

/**
 * Open-loop load: offers `rate` requests per second to a route of the server until the
 * parent says stop (or `maxSeconds` pass), and reports latency percentiles. Latency is
 * measured from each request's scheduled time, so a stalled server is not hidden by a
 * generator that waited for it.
 *
 * argv: baseUrl token rate maxSeconds routeTemplate users
 * routeTemplate: "webhook" (signed PayNow order deliveries to POST /api/webhooks/paynow,
 * one in ten a provider retry; the secrets come in RECKON_BENCH_PAYNOW_SECRETS),
 * "spend" (POST /api/wallets/:uid/spend) or any path with `:uid`.
 */
const [baseUrl, token, rateText, maxSecondsText, route, usersText] = process.argv.slice(2);
const rate = Number(rateText);
const maxSeconds = Number(maxSecondsText);
const users = Number(usersText);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const latenciesMs: number[] = [];
const statuses: Record<string, number> = {};
let stopped = false;
let phase = "baseline";
const byPhase: Record<string, number[]> = { baseline: [], load: [] };

/**
 * RECKON_BENCH_UID_OFFSET: where in the users' order the deliveries start, so a run on a kept
 * database credits users the previous runs did not (the same sequence touches the same pages).
 */
const uidOffset = Number(process.env.RECKON_BENCH_UID_OFFSET ?? 0);

function benchUid(sequence: number): string {
  return `u${String(1 + (((sequence + uidOffset) * 7919) % users)).padStart(7, "0")}`;
}

/** Orders credit the benchmark's own users, spread over every chunk of the sweep. */
const paynow = route === "webhook" ? new PaynowLoad((process.env.RECKON_BENCH_PAYNOW_SECRETS ?? "").split(","), undefined, users, benchUid) : undefined;

function shotFor(sequence: number): { path: string; body: string; headers: Record<string, string> } {
  if (paynow) return paynow.shot(sequence);
  const uid = benchUid(sequence);
  const path = route === "spend" ? `/api/wallets/${uid}/spend` : route!.replace(":uid", uid);
  return {
    path,
    body: JSON.stringify({ amount: 1 }),
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `bench-${process.pid}-${sequence}` },
  };
}

function send(sequence: number, scheduledAt: number): void {
  const { path, body, headers } = shotFor(sequence);
  const ownPhase = phase;
  const request = http.request(
    `${baseUrl}${path}`,
    { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } },
    (response) => {
      response.resume();
      response.on("end", () => {
        const latency = performance.now() - scheduledAt;
        latenciesMs.push(latency);
        byPhase[ownPhase]!.push(latency);
        if (ownPhase === "load") {
          const second = Math.floor((scheduledAt - loadStartedAt) / 1000);
          (bySecond[second] ??= []).push(latency);
        }
        statuses[String(response.statusCode)] = (statuses[String(response.statusCode)] ?? 0) + 1;
      });
    },
  );
  request.on("error", () => {
    statuses.error = (statuses.error ?? 0) + 1;
  });
  request.end(body);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

const start = performance.now();
let sent = 0;
let loadStartedAt = 0;
/** Latencies of the load phase by the second (since the run began) they were scheduled in. */
const bySecond: number[][] = [];
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * rate);
  while (sent < due) {
    send(sent, start + (sent * 1000) / rate);
    sent += 1;
  }
  if (stopped || performance.now() - start > maxSeconds * 1000) finish();
}, 5);

function summary(values: number[]) {
  return { requests: values.length, p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: percentile(values, 100) };
}

function finish(): void {
  clearInterval(timer);
  // Let requests in flight complete (bounded).
  setTimeout(() => {
    const answered = Object.values(statuses).reduce((sum, count) => sum + count, 0);
    // Requests still unanswered when the generator stops are reported, never silently dropped.
    process.send?.({ offered: sent, unanswered: sent - answered, seconds: (performance.now() - start) / 1000, statuses, baseline: summary(byPhase.baseline!), underReconciliation: summary(byPhase.load!), maxMsBySecond: bySecond.map((values) => Math.round(Math.max(...(values ?? [0])))) });
    agent.destroy();
    process.exit(0);
  }, 2000);
}

process.on("message", (message) => {
  if (message === "load") {
    phase = "load";
    loadStartedAt = performance.now();
  }
  if (message === "stop") stopped = true;
});

import type { ProviderReadFailure } from "./ProviderRecords.js";

/** How a provider client retries: bounded attempts, exponential backoff with jitter, a timeout per request. */
export interface RetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  /** Backoff before the second attempt; doubled each time, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-request timeout (AbortSignal.timeout). */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, timeoutMs: 10_000 };

export type FetchOutcome = { ok: true; status: number; json: unknown } | { ok: false; failure: ProviderReadFailure };

function classify(status: number, body: string): ProviderReadFailure {
  const said = body.slice(0, 200).replace(/\s+/g, " ");
  if (status === 429) return { code: "rate_limited", retryable: true, status, message: `429 rate limited: ${said}` };
  if (status >= 500) return { code: "server_error", retryable: true, status, message: `${status} server error: ${said}` };
  if (status === 401 || status === 403) return { code: "unauthorized", retryable: false, status, message: `${status}: the API key was refused` };
  return { code: "bad_request", retryable: false, status, message: `${status}: ${said}` };
}

/** Retry-After in seconds (or an HTTP date), bounded by the policy's longest delay. */
function retryAfterMs(header: string | null, policy: RetryPolicy): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, policy.maxDelayMs) : null;
}

/**
 * GETs `url` and reads a JSON answer, retrying 429, 5xx, timeouts and network errors
 * with bounded exponential backoff. Never throws for HTTP or network problems: a
 * failure that outlived its attempts, or a permanent one, comes back as a value.
 */
export async function fetchJsonWithRetry(
  url: string,
  headers: Record<string, string>,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<FetchOutcome> {
  let last: ProviderReadFailure = { code: "network", retryable: true, message: "no attempt made" };
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let waitMs: number | null = null;
    try {
      const response = await fetch(url, { headers: { accept: "application/json", ...headers }, signal: AbortSignal.timeout(policy.timeoutMs) });
      const text = await response.text();
      if (response.ok) {
        try {
          return { ok: true, status: response.status, json: text === "" ? null : JSON.parse(text) };
        } catch {
          return { ok: false, failure: { code: "malformed_response", retryable: false, status: response.status, message: "the answer is not JSON" } };
        }
      }
      last = classify(response.status, text);
      waitMs = retryAfterMs(response.headers.get("retry-after"), policy);
    } catch (error) {
      const name = (error as Error).name;
      last =
        name === "TimeoutError" || name === "AbortError"
          ? { code: "timeout", retryable: true, message: `no answer within ${policy.timeoutMs} ms` }
          : { code: "network", retryable: true, message: `network error: ${(error as Error).message.slice(0, 200)}` };
    }
    if (!last.retryable || attempt === policy.attempts) break;
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    await sleep(waitMs ?? backoff / 2 + Math.random() * (backoff / 2));
  }
  return { ok: false, failure: { ...last, message: `${last.message} (after ${policy.attempts} attempts at most)` } };
}

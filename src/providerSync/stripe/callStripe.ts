import Stripe from "stripe";
import type { ProviderReadFailure } from "../ProviderRecords.js";

/** How long to wait between attempts after a 429, which the SDK itself does not retry. */
export interface RateLimitBackoff {
  /** Attempts after the first 429 answer. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RATE_LIMIT_BACKOFF: RateLimitBackoff = { retries: 4, baseDelayMs: 500, maxDelayMs: 8_000 };

export type StripeCall<T> = { ok: true; value: T } | { ok: false; failure: ProviderReadFailure; statusCode?: number; code?: string };

/** An SDK error as a read failure: which kind, whether a later run may succeed, and what Stripe said (never the key). */
function failureOf(error: Stripe.errors.StripeError): ProviderReadFailure {
  const status = error.statusCode;
  const said = `${error.type}${error.code ? ` ${error.code}` : ""}: ${error.message.slice(0, 200)}`;
  const withStatus = status === undefined ? {} : { status };
  if (error instanceof Stripe.errors.StripeRateLimitError) return { code: "rate_limited", retryable: true, message: said, ...withStatus };
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return /timeout/i.test(error.message) ? { code: "timeout", retryable: true, message: said } : { code: "network", retryable: true, message: said };
  }
  if (error instanceof Stripe.errors.StripeAuthenticationError || error instanceof Stripe.errors.StripePermissionError) {
    return { code: "unauthorized", retryable: false, message: `${error.type}: the API key was refused`, ...withStatus };
  }
  if (status !== undefined && status >= 500) return { code: "server_error", retryable: true, message: said, status };
  if (status === undefined) return { code: "malformed_response", retryable: false, message: said };
  return { code: "bad_request", retryable: false, message: said, status };
}

/**
 * Runs one request of the official SDK, which retries 5xx answers and timeouts itself
 * (`maxNetworkRetries`); a 429 is retried here with exponential backoff and jitter.
 * Stripe's errors come back as values; anything else thrown is a bug and is rethrown.
 */
export async function callStripe<T>(
  request: () => Promise<T>,
  backoff: RateLimitBackoff,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<StripeCall<T>> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return { ok: true, value: await request() };
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeError)) throw error;
      if (error instanceof Stripe.errors.StripeRateLimitError && attempt < backoff.retries) {
        const delayMs = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** attempt);
        await sleep(delayMs / 2 + Math.random() * (delayMs / 2));
        continue;
      }
      const failure = failureOf(error);
      return {
        ok: false,
        failure: { ...failure, message: `${failure.message} (after ${attempt + 1} attempts)` },
        ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
        ...(error.code === undefined ? {} : { code: error.code }),
      };
    }
  }
}

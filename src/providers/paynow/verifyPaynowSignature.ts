import { createHmac, timingSafeEqual } from "node:crypto";
import { checkTimestamp, SIGNATURE_TOLERANCE_MS, type SignatureCheck } from "../SignatureCheck.js";

export interface PaynowSignatureInput {
  rawBody: Buffer;
  /** `PayNow-Signature`: base64 of the 32-byte HMAC-SHA256. */
  signature: string | undefined;
  /** `PayNow-Timestamp`: unix time in milliseconds. */
  timestamp: string | undefined;
  /** PayNow signs each subscribed event type with its own secret: any may match. */
  secrets: readonly string[];
  now: Date;
  toleranceMs?: number;
}

/** Exactly one padded base64 encoding of 32 bytes; a hex digest (64 chars) is malformed. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const MILLISECONDS = /^\d{1,16}$/;

/**
 * Verifies a PayNow delivery on its raw bytes before anything parses them:
 * `base64(HMAC_SHA256(secret, "<timestamp>.<raw body>"))`. Every secret is tried
 * without stopping at the first match, and digests are compared in constant time.
 */
export function verifyPaynowSignature(input: PaynowSignatureInput): SignatureCheck {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, failure: "signature_missing" };
  if (!BASE64_SHA256.test(signature.trim()) || !MILLISECONDS.test(timestamp.trim())) {
    return { ok: false, failure: "signature_malformed" };
  }
  const stale = checkTimestamp(Number(timestamp.trim()), input.now, input.toleranceMs ?? SIGNATURE_TOLERANCE_MS);
  if (stale) return { ok: false, failure: stale };
  const given = Buffer.from(signature.trim(), "base64");
  let matched = false;
  for (const secret of input.secrets) {
    const expected = createHmac("sha256", secret).update(`${timestamp.trim()}.`).update(input.rawBody).digest();
    // No early exit: the time taken does not tell which secret matched.
    matched = timingSafeEqual(expected, given) || matched;
  }
  return matched ? { ok: true } : { ok: false, failure: "signature_mismatch" };
}

/** Signs a body the way PayNow does; used by tests, the benchmark and the crash test. */
export function signPaynow(secret: string, timestampMs: number, rawBody: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestampMs}.`).update(rawBody).digest("base64");
}

import { createHmac, timingSafeEqual } from "node:crypto";
import { checkTimestamp, SIGNATURE_TOLERANCE_MS, type SignatureCheck } from "../SignatureCheck.js";

export interface StripeSignatureInput {
  rawBody: Buffer;
  /** `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. */
  header: string | undefined;
  /** The whole `whsec_…` string is the HMAC key. */
  secret: string;
  now: Date;
  toleranceMs?: number;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const SECONDS = /^\d{1,12}$/;

/** Splits the header; null when it lacks a timestamp or any well-formed v1 signature. */
function parseHeader(header: string): { t: string; v1: string[] } | null {
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === "t") t = value;
    // Other schemes (v0 test signatures) are ignored, as Stripe's own library does.
    if (key === "v1" && HEX_SHA256.test(value)) v1.push(value);
  }
  if (t === undefined || !SECONDS.test(t) || v1.length === 0) return null;
  return { t, v1 };
}

/**
 * Verifies a Stripe delivery on its raw bytes: hex HMAC-SHA256 of `"<t>.<raw body>"`;
 * any v1 may match (Stripe sends one per active secret while a secret rolls).
 * Unlike Stripe's library, a timestamp too far in the future is refused too.
 */
export function verifyStripeSignature(input: StripeSignatureInput): SignatureCheck {
  if (!input.header) return { ok: false, failure: "signature_missing" };
  const parsed = parseHeader(input.header);
  if (!parsed) return { ok: false, failure: "signature_malformed" };
  const stale = checkTimestamp(Number(parsed.t) * 1000, input.now, input.toleranceMs ?? SIGNATURE_TOLERANCE_MS);
  if (stale) return { ok: false, failure: stale };
  const expected = Buffer.from(
    createHmac("sha256", input.secret).update(`${parsed.t}.`).update(input.rawBody).digest("hex"),
  );
  let matched = false;
  for (const candidate of parsed.v1) {
    matched = timingSafeEqual(expected, Buffer.from(candidate)) || matched;
  }
  return matched ? { ok: true } : { ok: false, failure: "signature_mismatch" };
}

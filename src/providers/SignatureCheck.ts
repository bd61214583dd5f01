/** Why a delivery's signature was refused; each answers 401 with its own code. */
export type SignatureFailure =
  | "signature_missing"
  | "signature_malformed"
  | "signature_mismatch"
  | "timestamp_too_old"
  | "timestamp_in_future";

export type SignatureCheck = { ok: true } | { ok: false; failure: SignatureFailure };

/** Both providers allow five minutes either way between their clock and ours. */
export const SIGNATURE_TOLERANCE_MS = 300_000;

/** Checks a signing time against the clock; null when it is inside the tolerance. */
export function checkTimestamp(signedAtMs: number, now: Date, toleranceMs: number): SignatureFailure | null {
  const ageMs = now.getTime() - signedAtMs;
  if (ageMs > toleranceMs) return "timestamp_too_old";
  if (ageMs < -toleranceMs) return "timestamp_in_future";
  return null;
}

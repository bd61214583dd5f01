import { createHmac, randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { signPaynow, verifyPaynowSignature } from "./verifyPaynowSignature.js";

const now = new Date("2026-01-01T00:00:00.000Z");
const secrets = [randomBytes(16).toString("hex"), randomBytes(16).toString("hex"), randomBytes(16).toString("hex")];
const body = Buffer.from('{"event_type":"ON_ORDER_COMPLETED","event_id":"498213378450001920","body":{}}');

const check = (overrides: Partial<Parameters<typeof verifyPaynowSignature>[0]> = {}) => {
  const timestamp = String(now.getTime());
  return verifyPaynowSignature({ rawBody: body, signature: signPaynow(secrets[2]!, now.getTime(), body), timestamp, secrets, now, ...overrides });
};

it("accepts base64 HMAC-SHA256 of '<ms timestamp>.<raw body>' made with any configured secret", () => {
  for (const secret of secrets) {
    expect(check({ signature: signPaynow(secret, now.getTime(), body) })).toEqual({ ok: true });
  }
});

it("signs the exact bytes: one changed byte is a mismatch", () => {
  const changed = Buffer.from(body);
  changed[changed.length - 2] = 0x20;
  expect(check({ rawBody: changed })).toEqual({ ok: false, failure: "signature_mismatch" });
});

it("refuses a signature made with a secret we do not hold", () => {
  expect(check({ signature: signPaynow("not-ours", now.getTime(), body) })).toEqual({ ok: false, failure: "signature_mismatch" });
});

it("calls a hex digest malformed, not merely wrong", () => {
  const hex = createHmac("sha256", secrets[0]!).update(`${now.getTime()}.`).update(body).digest("hex");
  expect(check({ signature: hex })).toEqual({ ok: false, failure: "signature_malformed" });
});

it("calls a non-numeric timestamp malformed", () => {
  expect(check({ timestamp: "2026-01-01T00:00:00Z" })).toEqual({ ok: false, failure: "signature_malformed" });
});

it("names missing headers", () => {
  expect(check({ signature: undefined })).toEqual({ ok: false, failure: "signature_missing" });
  expect(check({ timestamp: undefined })).toEqual({ ok: false, failure: "signature_missing" });
});

it("allows five minutes of clock difference either way, not one millisecond more", () => {
  for (const [offset, result] of [
    [-300_000, { ok: true }],
    [300_000, { ok: true }],
    [-300_001, { ok: false, failure: "timestamp_too_old" }],
    [300_001, { ok: false, failure: "timestamp_in_future" }],
  ] as const) {
    const ts = now.getTime() + offset;
    expect(check({ timestamp: String(ts), signature: signPaynow(secrets[0]!, ts, body) })).toEqual(result);
  }
});

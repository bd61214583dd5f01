import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import { expect, it } from "vitest";
import { verifyStripeSignature } from "./verifyStripeSignature.js";

const stripe = new Stripe("sk_test_offline_signing_only");
const secret = `whsec_${randomBytes(24).toString("base64url")}`;
const now = new Date("2026-01-01T00:00:00.000Z");
const seconds = now.getTime() / 1000;
const payload = JSON.stringify({ id: "evt_1", type: "checkout.session.completed", livemode: false, data: { object: {} } });

const header = (options: { secret?: string; timestamp?: number } = {}) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? secret, timestamp: options.timestamp ?? seconds });
const verify = (value: string | undefined, body = payload) => verifyStripeSignature({ rawBody: Buffer.from(body), header: value, secret, now });

it("accepts a header made by stripe.webhooks.generateTestHeaderString", () => {
  expect(verify(header())).toEqual({ ok: true });
});

it("accepts when any v1 matches, as during a secret roll", () => {
  const other = header({ secret: "whsec_old" }).split(",")[1]!;
  expect(verify(`${header()},${other}`)).toEqual({ ok: true });
  expect(verify(`${header({ secret: "whsec_old" })},${header().split(",")[1]}`)).toEqual({ ok: true });
});

it("refuses another secret and a changed body", () => {
  expect(verify(header({ secret: "whsec_other" }))).toEqual({ ok: false, failure: "signature_mismatch" });
  expect(verify(header(), payload.replace("false", "true"))).toEqual({ ok: false, failure: "signature_mismatch" });
});

it("names a missing header and a header without t= or a hex v1=", () => {
  expect(verify(undefined)).toEqual({ ok: false, failure: "signature_missing" });
  expect(verify(`v1=${"a".repeat(64)}`)).toEqual({ ok: false, failure: "signature_malformed" });
  expect(verify(`t=${seconds},v0=${"a".repeat(64)}`)).toEqual({ ok: false, failure: "signature_malformed" });
  expect(verify("garbage")).toEqual({ ok: false, failure: "signature_malformed" });
});

it("allows 300 seconds either way", () => {
  expect(verify(header({ timestamp: seconds - 300 }))).toEqual({ ok: true });
  expect(verify(header({ timestamp: seconds - 301 }))).toEqual({ ok: false, failure: "timestamp_too_old" });
  expect(verify(header({ timestamp: seconds + 301 }))).toEqual({ ok: false, failure: "timestamp_in_future" });
});

it("agrees with Stripe's own verifier on a good header", () => {
  const good = header({ timestamp: Math.floor(Date.now() / 1000) });
  expect(() => stripe.webhooks.constructEvent(payload, good, secret)).not.toThrow();
  expect(verifyStripeSignature({ rawBody: Buffer.from(payload), header: good, secret, now: new Date() })).toEqual({ ok: true });
});

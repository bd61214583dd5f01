import { beforeAll, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../../test/support/testApp.js";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";

interface BadRequest {
  name: string;
  method?: "GET" | "POST" | "PUT";
  url?: string;
  role?: "service" | "admin";
  key?: string | null;
  /** A value to send as JSON, or a raw string sent as-is. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  status?: number;
  code: string;
}

const SPEND = "/api/wallets/bad_input_user/spend";

const CASES: BadRequest[] = [
  { name: "a fractional amount", body: { amount: 1.5 }, code: "invalid_body" },
  { name: "a negative amount", body: { amount: -5 }, code: "invalid_body" },
  { name: "a zero amount", body: { amount: 0 }, code: "invalid_body" },
  { name: "an amount beyond 2^53", raw: '{"amount":9007199254740993}', code: "invalid_body" },
  { name: "an amount of 1e300", raw: '{"amount":1e300}', code: "invalid_body" },
  { name: "a string amount", body: { amount: "5" }, code: "invalid_body" },
  { name: "a null amount", body: { amount: null }, code: "invalid_body" },
  { name: "no amount", body: {}, code: "invalid_body" },
  { name: "an unknown field", body: { amount: 1, bonus: 100 }, code: "unknown_field" },
  { name: "an array body", body: [{ amount: 1 }], code: "invalid_body" },
  { name: "a non-JSON body", raw: "amount=5", code: "invalid_json" },
  { name: "an empty JSON body", raw: "", code: "invalid_json" },
  { name: "a prototype-poisoning body", raw: '{"amount":1,"__proto__":{"admin":true}}', code: "invalid_json" },
  { name: "a form body", raw: "amount=5", contentType: "application/x-www-form-urlencoded", status: 415, code: "unsupported_media_type" },
  { name: "an over-long uid", url: `/api/wallets/${"u".repeat(129)}/spend`, body: { amount: 1 }, code: "invalid_uid" },
  { name: "a uid of 2,000 characters", url: `/api/wallets/${"u".repeat(2000)}/spend`, body: { amount: 1 }, code: "invalid_path" },
  { name: "a malformed percent-encoding", url: "/api/wallets/%E0%A4%A/spend", body: { amount: 1 }, code: "bad_request" },
  { name: "a uid with a space", url: "/api/wallets/bad%20uid/spend", body: { amount: 1 }, code: "invalid_uid" },
  { name: "a uid with a slash", url: "/api/wallets/a%2Fb/spend", body: { amount: 1 }, code: "invalid_uid" },
  { name: "a non-ASCII uid", url: "/api/wallets/%C3%BCser/spend", body: { amount: 1 }, code: "invalid_uid" },
  { name: "a missing Idempotency-Key", key: null, body: { amount: 1 }, code: "missing_idempotency_key" },
  { name: "an over-long Idempotency-Key", key: "k".repeat(201), body: { amount: 1 }, code: "invalid_idempotency_key" },
  { name: "an Idempotency-Key with a space", key: "two words", body: { amount: 1 }, code: "invalid_idempotency_key" },
  { name: "an empty Idempotency-Key", key: "", body: { amount: 1 }, code: "invalid_idempotency_key" },
  {
    name: "a zero adjustment",
    url: "/api/admin/wallets/bad_input_user/adjustments",
    role: "admin",
    body: { amount: 0, reason: "x" },
    code: "invalid_body",
  },
  {
    name: "an adjustment without a reason",
    url: "/api/admin/wallets/bad_input_user/adjustments",
    role: "admin",
    body: { amount: 5 },
    code: "invalid_body",
  },
  {
    name: "an adjustment with an over-long reason",
    url: "/api/admin/wallets/bad_input_user/adjustments",
    role: "admin",
    body: { amount: 5, reason: "r".repeat(501) },
    code: "invalid_body",
  },
  { name: "a reversal of entry 'abc'", url: "/api/admin/entries/abc/reverse", role: "admin", body: { reason: "x" }, code: "invalid_entry_id" },
  { name: "a reversal of entry 0", url: "/api/admin/entries/0/reverse", role: "admin", body: { reason: "x" }, code: "invalid_entry_id" },
  {
    name: "a reversal of an entry id beyond 2^53",
    url: "/api/admin/entries/99999999999999999999/reverse",
    role: "admin",
    body: { reason: "x" },
    code: "invalid_entry_id",
  },
  { name: "a reversal of a fractional amount", url: "/api/admin/entries/1/reverse", role: "admin", body: { amount: 0.5, reason: "x" }, code: "invalid_body" },
  { name: "a ledger page of 0", method: "GET", url: "/api/wallets/bad_input_user/ledger?limit=0", code: "invalid_query" },
  { name: "a ledger page of 'ten'", method: "GET", url: "/api/wallets/bad_input_user/ledger?limit=ten", code: "invalid_query" },
  { name: "a forged cursor", method: "GET", url: "/api/wallets/bad_input_user/ledger?cursor=Zm9yZ2Vk", code: "invalid_cursor" },
  { name: "an unknown query parameter", method: "GET", url: "/api/wallets/bad_input_user/ledger?sort=asc", code: "invalid_query" },
  // PostgreSQL text cannot hold U+0000: every route refuses it in any input, on both engines alike.
  { name: "a spend reason holding NUL", body: { amount: 1, reason: "coffee\u0000" }, code: "nul_character" },
  {
    name: "an adjustment reason holding NUL",
    url: "/api/admin/wallets/bad_input_user/adjustments",
    role: "admin",
    body: { amount: 5, reason: "\u0000" },
    code: "nul_character",
  },
  { name: "a reversal reason holding NUL", url: "/api/admin/entries/1/reverse", role: "admin", body: { reason: "a\u0000b" }, code: "nul_character" },
  {
    name: "a product name holding NUL",
    method: "PUT",
    url: "/api/admin/products/paynow/nul_product",
    role: "admin",
    body: { pointsPerUnit: 10, name: "50 Points\u0000" },
    code: "nul_character",
  },
  { name: "a body key holding NUL", body: { amount: 1, "reason\u0000": "x" }, code: "nul_character" },
  { name: "a NUL deep inside the body", body: { amount: 1, reason: "x", x: [[{ y: "\u0000" }]] }, code: "nul_character" },
  { name: "a uid holding NUL", url: "/api/wallets/bad%00user/spend", body: { amount: 1 }, code: "nul_character" },
  { name: "an Idempotency-Key holding NUL", key: "key\u0000", body: { amount: 1 }, code: "nul_character" },
  { name: "a query value holding NUL", method: "GET", url: "/api/wallets/bad_input_user/ledger?cursor=%00", code: "nul_character" },
  { name: "a job date holding NUL", method: "GET", url: "/api/reconciliation/reports/2026-01-01%00", role: "admin", code: "nul_character" },
];

describeEachEngine("bad input is refused with a stable code and writes nothing", (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(db());
    await withTransaction(db(), (trx) =>
      postEntry(trx, { uid: "bad_input_user", kind: "purchase", amount: 100, idempotencyKey: "bad-buy", source: "test", now: new Date() }),
    );
  });

  for (const [index, testCase] of CASES.entries()) {
    it(`${testCase.name} -> ${testCase.status ?? 400} ${testCase.code}`, async () => {
      const before = await tableCounts(db());
      const headers: Record<string, string> = { ...t.as[testCase.role ?? "service"] };
      if (testCase.key !== null) headers["idempotency-key"] = testCase.key ?? `bad-${index}`;
      const method = testCase.method ?? "POST";
      if (method !== "GET") headers["content-type"] = testCase.contentType ?? "application/json";
      const payload = testCase.raw ?? (testCase.body === undefined ? undefined : JSON.stringify(testCase.body));
      const response = await t.app.inject({ method, url: testCase.url ?? SPEND, headers, ...(payload === undefined ? {} : { payload }) });
      expect(response.statusCode).toBe(testCase.status ?? 400);
      const body = response.json();
      expect(body.error.code).toBe(testCase.code);
      expect(typeof body.error.message).toBe("string");
      expect(await tableCounts(db())).toEqual(before);
    });
  }

  it("a body over one megabyte -> 413 body_too_large, nothing written", async () => {
    const before = await tableCounts(db());
    const response = await t.app.inject({
      method: "POST",
      url: SPEND,
      headers: { ...t.as.service, "idempotency-key": "big", "content-type": "application/json" },
      payload: JSON.stringify({ amount: 1, reason: "x".repeat(1_100_000) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe("body_too_large");
    expect(await tableCounts(db())).toEqual(before);
  });

  it("an unknown route -> 404 not_found in the same error shape", async () => {
    const response = await t.app.inject({ method: "GET", url: "/api/nowhere" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
  });
});

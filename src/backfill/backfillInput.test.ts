import { beforeAll, expect, it } from "vitest";
import { backfillHarness, type BackfillHarness } from "../../test/support/backfillKit.js";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { paynowOrder, flakeId, NOW } from "../../test/support/webhookFixtures.js";
import { importEvents } from "./importEvents.js";

const CASES: { name: string; body: unknown; code: string }[] = [
  { name: "an end before the start", body: { type: "webhook_replay", startDate: "2025-12-10", endDate: "2025-12-01" }, code: "invalid_range" },
  { name: "an unknown type", body: { type: "full_rebuild", startDate: "2025-12-01", endDate: "2025-12-02" }, code: "invalid_body" },
  { name: "a negative maxEvents", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", maxEvents: -5 }, code: "invalid_body" },
  { name: "a zero maxEvents", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", maxEvents: 0 }, code: "invalid_body" },
  { name: "a fractional maxEvents", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", maxEvents: 2.5 }, code: "invalid_body" },
  { name: "a maxEvents over the configured maximum", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", maxEvents: 1e12 }, code: "invalid_body" },
  { name: "a maxEvents beyond 2^53", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", maxEvents: 2 ** 60 }, code: "invalid_body" },
  { name: "a range over the configured maximum", body: { type: "webhook_replay", startDate: "2025-01-01", endDate: "2025-12-31" }, code: "invalid_range" },
  { name: "a range in the future", body: { type: "webhook_replay", startDate: "2025-12-30", endDate: "2026-01-02" }, code: "invalid_range" },
  { name: "an impossible date", body: { type: "webhook_replay", startDate: "2025-02-30", endDate: "2025-03-01" }, code: "invalid_body" },
  { name: "a malformed date", body: { type: "webhook_replay", startDate: "1/12/2025", endDate: "2025-12-02" }, code: "invalid_body" },
  { name: "a string dryRun", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", dryRun: "yes" }, code: "invalid_body" },
  { name: "a malformed plan hash", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", planHash: "abc" }, code: "invalid_body" },
  { name: "an unknown field", body: { type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02", force: true }, code: "unknown_field" },
  { name: "no body at all", body: undefined, code: "invalid_body" },
];

describeEachEngine("backfill refuses bad input and changes nothing", (db) => {
  let h: BackfillHarness;
  beforeAll(async () => {
    h = await backfillHarness(db());
  });

  for (const testCase of CASES) {
    it(`${testCase.name} -> 400 ${testCase.code}`, async () => {
      const before = await tableCounts(db());
      const response = await h.job(testCase.body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe(testCase.code);
      expect(await tableCounts(db())).toEqual(before);
    });
  }

  it("answers 503 feature_disabled when BACKFILL_ENABLED=0, starting nothing", async () => {
    const off = await backfillHarness(db(), { BACKFILL_ENABLED: "0" });
    const before = await tableCounts(db());
    const response = await off.job({ type: "webhook_replay", startDate: "2025-12-01", endDate: "2025-12-02" });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe("feature_disabled");
    const counts = await tableCounts(db());
    expect({ ...counts, api_tokens: before.api_tokens }).toEqual(before);
  });

  it("answers 404 for an unknown migration and 400 for a malformed id", async () => {
    const missing = await h.app.inject({ method: "GET", url: "/api/migrations/bf_nope", headers: h.admin });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("migration_not_found");
    const malformed = await h.app.inject({ method: "GET", url: "/api/migrations/bad%20id", headers: h.admin });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("invalid_migration_id");
  });

  it("reports every malformed import line by number and imports nothing", async () => {
    const good = JSON.stringify(paynowOrder({ orderId: flakeId(), uid: "imp", lines: [{ productId: "p", quantity: 1 }] }));
    const text = [good, "{not json", "", "[1,2]", JSON.stringify({ event_type: "ON_ORDER_COMPLETED" }), good].join("\n");
    const before = await tableCounts(db());
    const result = await importEvents(db(), { provider: "paynow", text, environment: "test", now: NOW });
    expect(result).toEqual({
      outcome: "invalid_lines",
      errors: [
        { line: 2, problem: "not valid JSON" },
        { line: 4, problem: "not a JSON object" },
        { line: 5, problem: expect.stringMatching(/^not a paynow event: /) },
      ],
    });
    expect(await tableCounts(db())).toEqual(before);
  });

  it("refuses a live Stripe event in the test environment, by line", async () => {
    const live = JSON.stringify({ id: "evt_live_1", object: "event", type: "customer.created", livemode: true, created: 1767225600, data: { object: { id: "cus_1", object: "customer" } } });
    const result = await importEvents(db(), { provider: "stripe", text: live, environment: "test", now: NOW });
    expect(result).toEqual({ outcome: "invalid_lines", errors: [{ line: 1, problem: "a live event cannot enter the test environment" }] });
  });

  it("imports deliveries as imported events dated by the provider, skipping known ones; a replay then applies them", async () => {
    const { catalogue, walletPoints } = await import("../../test/support/webhookFixtures.js");
    await catalogue(db(), "paynow", "p_imp", 25);
    const orders = [1, 2].map(() => paynowOrder({ orderId: flakeId(), uid: "imported_user", lines: [{ productId: "p_imp", quantity: 1 }] }));
    const text = orders.map((order) => JSON.stringify(order)).join("\n");
    expect(await importEvents(db(), { provider: "paynow", text, environment: "test", now: NOW })).toEqual({ outcome: "imported", lines: 2, stored: 2, duplicates: 0 });
    expect(await importEvents(db(), { provider: "paynow", text, environment: "test", now: NOW })).toEqual({ outcome: "imported", lines: 2, stored: 0, duplicates: 2 });
    const row = await db().kysely.selectFrom("webhook_events").selectAll().where("event_id", "=", orders[0]!.event_id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ imported: 1, status: "received", received_at: "2026-01-01T00:00:05.000Z" });
    expect(await walletPoints(db(), "imported_user")).toBeNull();
    const replay = await h.job({ type: "webhook_replay", startDate: "2026-01-01", endDate: "2026-01-01" });
    expect(replay.json()).toMatchObject({ status: "completed" });
    expect(await walletPoints(db(), "imported_user")).toBe(50);
  });
});

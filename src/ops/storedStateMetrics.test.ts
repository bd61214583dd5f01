import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { metricSample as value } from "../../test/support/metricSample.js";
import { createTestDatabase, describeEachEngine, ENGINES } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { runReconciliation } from "../reconcile/runReconciliation.js";
import { withTransaction } from "../storage/withTransaction.js";
import { storedStateMetrics } from "./storedStateMetrics.js";

const NOW = new Date("2026-07-01T02:00:00.000Z");

describeEachEngine("stored-state metrics", (db) => {
  it("before any run: no violations, no success, nothing open, nothing waiting", async () => {
    const text = await storedStateMetrics(db()).metrics();
    expect(value(text, "wallet_invariant_violations")).toBe(0);
    expect(value(text, "reconciliation_last_success_timestamp_seconds")).toBe(0);
    expect(value(text, "reconciliation_open_run_age_seconds")).toBe(0);
    expect(text).toMatch(/^backfill_error_rate\{type="webhook_replay"\} 0$/m);
    expect(text).not.toMatch(/^reckon_webhook_events_waiting\{/m);
  });

  it("one read answers every scrape within the cache time; the next scrape after it reads again", async () => {
    const clock = { ms: 1_000_000 };
    const metrics = storedStateMetrics(db(), { cacheMs: 5_000, nowMs: () => clock.ms });
    expect(await metrics.metrics()).not.toMatch(/^reckon_webhook_events_waiting\{/m);
    // Another process stores a failed delivery: this one sees it once its cache expires.
    await db()
      .kysely.insertInto("webhook_events")
      .values({ provider: "stripe", event_id: "evt_cache", event_type: "charge.refunded", status: "failed", failure_reason: "unknown_user", raw_body: Buffer.from("{}"), headers: "{}", livemode: 0, received_at: NOW.toISOString() })
      .execute();
    clock.ms += 4_999;
    expect(await metrics.metrics()).not.toMatch(/^reckon_webhook_events_waiting\{/m);
    clock.ms += 1;
    expect(value(await metrics.metrics(), "reckon_webhook_events_waiting", { provider: "stripe", status: "failed", reason: "unknown_user" })).toBe(1);
  });

  it("a job of this process makes its next scrape read again, cache or not", async () => {
    const clock = { ms: 1_000_000 };
    const metrics = storedStateMetrics(db(), { cacheMs: 5_000, nowMs: () => clock.ms });
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "c1", kind: "purchase", amount: 10, idempotencyKey: "c-c1", source: "test", now: NOW }));
    await sql`UPDATE wallets SET points = points + 3 WHERE uid = 'c1'`.execute(db().kysely);
    expect(value(await metrics.metrics(), "wallet_invariant_violations")).toBe(0);

    await runReconciliation(db(), { date: "2026-06-30", policy: "adjust_ledger", chunkUsers: 10, mode: "start", now: () => NOW });
    const text = await metrics.metrics();
    expect(value(text, "wallet_invariant_violations")).toBe(1);
    expect(value(text, "reconciliation_adjustment_amount")).toBe(3);
    expect(value(text, "reconciliation_top_delta_points", { rank: "1" })).toBe(3);
    expect(value(text, "reconciliation_top_delta_points", { rank: "2" })).toBe(0);
    expect(value(text, "reconciliation_users_checked")).toBe(1);
    expect(value(text, "reconciliation_run_duration_seconds")).toBe(0);
    expect(value(text, "reconciliation_last_success_timestamp_seconds")).toBe(NOW.getTime() / 1000);
  });

  it("an open run's age and a failed run after the last success are reported from their rows", async () => {
    const clock = { ms: NOW.getTime() + 3 * 3_600_000 };
    await db()
      .kysely.insertInto("reconciliation_runs")
      .values({ run_date: "2026-06-29", status: "failed", heal_policy: "adjust_ledger", started_at: NOW.toISOString(), finished_at: NOW.toISOString(), error: "planted" })
      .execute();
    await db()
      .kysely.insertInto("reconciliation_runs")
      .values({ run_date: "2026-07-01", status: "running", heal_policy: "adjust_ledger", started_at: NOW.toISOString() })
      .execute();
    const text = await storedStateMetrics(db(), { nowMs: () => clock.ms }).metrics();
    expect(value(text, "reconciliation_open_run_age_seconds")).toBe(3 * 3600);
    expect(value(text, "reconciliation_failed_runs_since_success")).toBe(1);
  });
});

describe.runIf(ENGINES.includes("postgres"))("stored-state reads on a fresh PostgreSQL pool [postgres]", () => {
  it("one scrape opens one connection", async () => {
    // A fresh server, or one whose idle connections had timed out, used to open a backend
    // per read: five for one scrape, each loading its catalogue caches (35–210 ms).
    const fresh = await createTestDatabase("postgres");
    try {
      await storedStateMetrics(fresh.db).metrics();
      expect(fresh.db.pool!.totalCount).toBe(1);
    } finally {
      await fresh.drop();
    }
  });
});

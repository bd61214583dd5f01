import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { setFlag } from "../flags/setFlag.js";
import type { RunSummary } from "../reconcile/readReports.js";
import { runReconciliation } from "../reconcile/runReconciliation.js";
import { createSnapshot } from "../snapshot/createSnapshot.js";
import { withTransaction } from "../storage/withTransaction.js";
import { storeFailedEvent } from "../../test/support/backfillKit.js";
import { prodEnv } from "../../test/support/prodEnv.js";
import { runReckonInProcess } from "../../test/support/runReckonInProcess.js";
import { receivedOrderRow } from "../../test/support/storedOrders.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { buildTestApp } from "../../test/support/testApp.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, paynowOrder } from "../../test/support/webhookFixtures.js";
import { checkProdConfiguration } from "./checkProdConfiguration.js";
import { checkProviderModes } from "./checkProviderModes.js";
import { checkRecentRuns, shiftDate } from "./checkRecentRuns.js";
import type { CutoverReport } from "./CutoverCheck.js";
import { runPreflight } from "./runPreflight.js";
import { verifyCutover } from "./verifyCutover.js";

const TODAY = "2026-03-10";

function run(date: string, fields: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 1, date, status: "completed", healPolicy: "adjust_ledger", startedAt: "", finishedAt: "", usersChecked: 1,
    violations: 0, refused: 0, adjustmentAbsTotal: 0, chainPosition: 1, checksum: null, previousChecksum: null, error: null, ...fields,
  };
}

const byName = (report: CutoverReport) => Object.fromEntries(report.checks.map((check) => [check.name, check.ok ? "ok" : check.code]));

describe("preflight's configuration checks", () => {
  const prod = (secrets: Record<string, string>, extra: Record<string, string> = {}) => loadConfig(prodEnv(secrets, { DATABASE_URL: "file:unused.db", ...extra }));
  const secrets = { PAYNOW_WEBHOOK_SECRETS: "a".repeat(40), STRIPE_WEBHOOK_SECRET: `whsec_${"b".repeat(32)}` };

  it("prod needs both providers' secrets; a PayNow store left in test mode without secrets still fails the mode check", () => {
    expect(checkProdConfiguration(prod(secrets))).toMatchObject({ ok: true });
    expect(checkProdConfiguration(prod({ STRIPE_WEBHOOK_SECRET: secrets.STRIPE_WEBHOOK_SECRET }))).toMatchObject({ ok: false, code: "prod_not_configured", reason: expect.stringContaining("PAYNOW_WEBHOOK_SECRETS_FILE") });
    expect(checkProviderModes(prod(secrets), { stripeDeliveriesOfOtherMode: 0 })).toMatchObject({ ok: true });
    expect(checkProviderModes(prod({}, { PAYNOW_MODE: "test" }), { stripeDeliveriesOfOtherMode: 0 })).toMatchObject({ ok: false, code: "provider_mode_mismatch", reason: expect.stringContaining("PAYNOW_MODE is test") });
    expect(checkProviderModes(prod(secrets), { stripeDeliveriesOfOtherMode: 2 })).toMatchObject({ ok: false, reason: expect.stringContaining("2 stored Stripe deliveries are not live-mode") });
  });
});

describe("the recent-runs rule of preflight", () => {
  it("passes exactly when each of the last N days (ending today if run, else yesterday) has a completed run within the violation bound", () => {
    const day = fc.record({ present: fc.boolean(), completed: fc.boolean(), violations: fc.nat(3), refused: fc.constantFrom(0, 0, 0, 1) });
    fc.assert(
      fc.property(fc.array(day, { minLength: 10, maxLength: 10 }), fc.integer({ min: 1, max: 9 }), fc.nat(2), (days, n, maxViolations) => {
        // days[0] is today, days[i] i days back.
        const runs = days.flatMap((d, back) =>
          d.present ? [run(shiftDate(TODAY, -back), { status: d.completed ? "completed" : "failed", violations: d.violations, refused: d.refused })] : [],
        );
        const end = days[0]!.present ? 0 : 1;
        const window = days.slice(end, end + n);
        const clean = window.every((d) => d.present && d.completed && d.violations <= maxViolations && d.refused === 0);
        expect(checkRecentRuns(runs, { today: TODAY, days: n, maxViolations }).ok).toBe(clean);
      }),
    );
  });
});

for (const engine of ENGINES) describe(`cutover preflight and verify [${engine}]`, () => {
  const dir = mkdtempSync(join(tmpdir(), "reckon-preflight-"));
  let testDatabase: TestDatabase;
  const database = () => testDatabase.db;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await testDatabase.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = loadConfig({ ENVIRONMENT: "test", DATABASE_URL: "file:unused.db" });
  const preflight = (now = new Date()) => runPreflight(database(), config, { days: 2, maxViolations: 0, snapshotDir: join(dir, "snapshots"), snapshotMaxAgeHours: 24, now });

  it(`names each unmet condition with its code, and writes nothing, not even a backfill record [${engine}]`, async () => {
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    await catalogue(database(), "paynow", "prod_pre", 10);
    await database().kysely.insertInto("webhook_events").values(receivedOrderRow(paynowOrder({ orderId: "pre1", uid: "u1", lines: [{ productId: "prod_pre", quantity: 1 }] }), yesterday)).execute();
    await storeFailedEvent(database(), { event_type: "ON_ORDER_COMPLETED", event_id: "failed-1" }, yesterday);
    const before = await tableHashes(database());
    const report = await preflight(now);
    expect(await tableHashes(database())).toEqual(before);
    expect(report.outcome).toBe("failed");
    expect(byName(report)).toEqual({
      reconciliation_runs: "reconciliation_not_clean",
      webhook_backlog: "webhook_events_waiting",
      replay_dry_run: "backfill_would_change",
      reversal_dry_run: "ok",
      adjustments_frozen: "adjustments_not_frozen",
      snapshot: "snapshot_missing",
      prod_configuration: "not_prod",
      provider_modes: "ok",
    });
    const reasons = Object.fromEntries(report.checks.map((check) => [check.name, check.reason]));
    expect(reasons["webhook_backlog"]).toContain("1 paynow failed (internal_error)");
    expect(reasons["replay_dry_run"]).toContain("would post 1 entries");
  });

  it(`passes the runs, freeze and snapshot once they hold; a stale snapshot or a stored event of the other mode fails [${engine}]`, async () => {
    const now = new Date();
    const today = now.toISOString().slice(0, 10);
    for (const date of [shiftDate(today, -2), shiftDate(today, -1)]) {
      await runReconciliation(database(), { date, policy: "adjust_ledger", chunkUsers: 100, mode: "start", now: () => now });
    }
    await withTransaction(database(), (trx) => setFlag(trx, { name: "adjustments_frozen", value: true, actor: "test", now }));
    const snapshotDir = join(dir, "snapshots");
    const stale = new Date(now.getTime() - 30 * 3_600_000);
    expect(await createSnapshot(database(), { url: testDatabase.url, dir: snapshotDir, environment: "test", now: stale })).toMatchObject({ outcome: "created" });
    expect(byName(await preflight(now))["snapshot"]).toBe("snapshot_too_old");
    expect(await createSnapshot(database(), { url: testDatabase.url, dir: snapshotDir, environment: "test", now })).toMatchObject({ outcome: "created" });
    await database().kysely
      .insertInto("webhook_events")
      .values({ provider: "stripe", event_id: "evt_live", event_type: "charge.refunded", status: "ignored", raw_body: Buffer.from("{}"), headers: "{}", livemode: 1, received_at: now.toISOString() })
      .execute();
    const report = byName(await preflight(now));
    expect(report).toMatchObject({ reconciliation_runs: "ok", adjustments_frozen: "ok", snapshot: "ok", provider_modes: "provider_mode_mismatch" });
  });

  it(`verify names an unreachable server, a refused token, a missing report and a server with no deliveries, each by its code [${engine}]`, async () => {
    const t = await buildTestApp(database(), { now: () => new Date() });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    const url = new URL(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`);
    const options = { url, adminToken: t.adminToken, date: "2026-01-01", ackP99MaxMs: 250, timeoutMs: 5_000 };
    try {
      expect(byName(await verifyCutover(options))).toEqual({
        readyz: "ok", webhook_ack_p99: "no_deliveries", seed_metrics: "ok", first_reconciliation: "report_not_found", admin: "ok",
      });
      expect(byName(await verifyCutover({ ...options, adminToken: "rk_admin_wrong" }))["first_reconciliation"]).toBe("token_refused");
    } finally {
      await t.app.close();
    }
    const closed = byName(await verifyCutover(options));
    expect(Object.values(closed)).toEqual(["unreachable", "unreachable", "unreachable", "unreachable", "unreachable"]);
  });
});

describe("cutover commands refuse bad input before checking anything", () => {
  it("an invalid URL, an unreadable token file, an unreachable database: a stable code and exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reckon-verify-"));
    try {
      const token = join(dir, "token");
      writeFileSync(token, "rk_admin_x");
      const invalid = await runReckonInProcess(["cutover", "verify", "--url", "ftp://example", "--token-file", token, "--json"], {});
      expect(invalid.code).toBe(1);
      expect(JSON.parse(invalid.stdout)).toMatchObject({ outcome: "failed", error: { code: "invalid_url" } });
      const noToken = await runReckonInProcess(["cutover", "verify", "--url", "http://127.0.0.1:3000", "--token-file", join(dir, "none"), "--json"], {});
      expect(JSON.parse(noToken.stdout)).toMatchObject({ error: { code: "token_file_unreadable" } });
      const noDb = await runReckonInProcess(["cutover", "preflight", "--json"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
      expect(noDb.code).toBe(1);
      expect(JSON.parse(noDb.stdout)).toMatchObject({ error: { code: "database_unreachable" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { afterAll, beforeAll, expect, it } from "vitest";
import { resumeBackfill } from "../backfill/resumeBackfill.js";
import { backfillDeps } from "../backfill/backfillDeps.js";
import { verifyReports } from "../reconcile/verifyReports.js";
import { reconcileJob } from "../reconcile/reconcileJob.js";
import { scheduleReconciliation } from "../reconcile/scheduleReconciliation.js";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { walletPoints } from "../../test/support/webhookFixtures.js";
import { paynowSyncHarness, POINTS_PER_UNIT, PRICE_MINOR, sell, tick, type PaynowSyncHarness } from "../../test/support/paynowSyncHarness.js";
import { createApiToken } from "../auth/apiTokens.js";
import { metricSample } from "../../test/support/metricSample.js";
import { listFindings } from "./storeFindings.js";
import { readDayReport } from "./readDayReport.js";
import { resolveFinding } from "./resolveFinding.js";

const DAY = "2026-03-10";
const SALES_START = new Date(`${DAY}T09:00:00.000Z`);
const NEXT_MORNING = new Date("2026-03-11T03:00:00.000Z");

const summary = (run: { findingsSample: { kind: string; subject: string; status: string }[] }) =>
  run.findingsSample.map(({ kind, subject, status }) => `${kind} ${subject} ${status}`).sort();

describeEachEngine("provider sync against PayNow's own records", (db) => {
  let harness: PaynowSyncHarness;
  /** What each user should hold once every difference is repaired or resolved: the independent model. */
  const expected = new Map<string, number>();
  const planted: string[] = [];
  const ids: Record<string, string> = {};
  /** Who an admin credits each sale the provider knows no user for. */
  const uidFor = new Map<string, string>();

  beforeAll(async () => {
    harness = await paynowSyncHarness(db(), SALES_START);
    const { store } = harness;
    for (const uid of ["u_plain0", "u_plain1", "u_plain2"]) {
      await sell(harness, uid, 2);
      expected.set(uid, 2 * POINTS_PER_UNIT);
    }
    // A: the order's delivery is lost.
    store.dropNext();
    const a = await sell(harness, "u_a");
    planted.push(`missing_delivery ${a.eventId} repaired`);
    expected.set("u_a", POINTS_PER_UNIT);
    ids.aEvent = a.eventId;
    // B: delivered twice.
    const b = await sell(harness, "u_b", 3);
    await store.redeliver(b.eventId);
    expected.set("u_b", 3 * POINTS_PER_UNIT);
    // C: the order's delivery is lost and its refund arrives first (out of order, parked).
    store.dropNext();
    const c = await sell(harness, "u_c");
    tick(harness.clock);
    await store.refund(c.order.id, PRICE_MINOR);
    planted.push(`missing_delivery ${c.eventId} repaired`);
    expected.set("u_c", 0);
    // D: the refund's delivery is lost.
    const d = await sell(harness, "u_d");
    tick(harness.clock);
    store.dropNext();
    planted.push(`missing_delivery ${(await store.refund(d.order.id, PRICE_MINOR)).eventId} repaired`);
    expected.set("u_d", 0);
    // E: the chargeback's delivery is lost.
    const e = await sell(harness, "u_e");
    tick(harness.clock);
    store.dropNext();
    planted.push(`missing_delivery ${await store.chargeback(e.order.id)} repaired`);
    expected.set("u_e", 0);
    // F: the chargeback arrives, its won closing is lost.
    const f = await sell(harness, "u_f");
    tick(harness.clock);
    await store.chargeback(f.order.id);
    tick(harness.clock);
    store.dropNext();
    planted.push(`missing_delivery ${await store.closeChargeback(f.order.id, "won")} repaired`);
    expected.set("u_f", POINTS_PER_UNIT);
    // G: the app forgot the uid: stored, never credited; an admin supplies it.
    const g = await sell(harness, null);
    planted.push(`paid_not_credited paynow:order:${g.order.id} open`);
    ids.gOrder = g.order.id;
    uidFor.set(`paynow:order:${g.order.id}`, "u_g");
    expected.set("u_g", POINTS_PER_UNIT);
    // J: the uid forgotten and the delivery lost too: one cause, one finding (the sync imports the delivery, which names no user).
    store.dropNext();
    const j = await sell(harness, null);
    planted.push(`paid_not_credited paynow:order:${j.order.id} open`);
    uidFor.set(`paynow:order:${j.order.id}`, "u_j");
    expected.set("u_j", POINTS_PER_UNIT);
    // H: credited, then the provider shows the order canceled: reported, never healed.
    const h = await sell(harness, "u_h");
    store.orders.find((order) => order.id === h.order.id)!.status = "canceled";
    planted.push(`credited_not_paid paynow:order:${h.order.id} reported`);
    expected.set("u_h", POINTS_PER_UNIT);
    // I: a refund whose delivery was lost and whose history entry is gone: no payload to import.
    const i = await sell(harness, "u_i");
    tick(harness.clock);
    store.dropNext();
    const refundI = await store.refund(i.order.id, PRICE_MINOR);
    store.history.splice(store.history.findIndex((entry) => entry.payload.event_id === refundI.eventId), 1);
    planted.push(`refund_not_reversed paynow:refund:${refundI.refund.id} open`);
    expected.set("u_i", 0);
    harness.clock.now = NEXT_MORNING;
  });
  afterAll(() => harness.close());

  it("a dry run lists exactly the planted findings and writes nothing but its record", async () => {
    const before = await tableHashes(db(), ["data_migrations"]);
    const run = await harness.sync({ from: DAY, to: DAY, dryRun: true });
    expect(run).toMatchObject({ status: "completed", dryRun: true, findingsFound: planted.length });
    expect(summary(run)).toEqual([...planted].sort());
    // Credits of A and C, reversals of C, D and E, F's reinstatement.
    expect(run.planSample.map((entry) => `${entry.uid} ${entry.amount}`).sort()).toEqual(
      ["u_a 50", "u_c 50", "u_c -50", "u_d -50", "u_e -50", "u_f 50"].sort(),
    );
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
  });

  it("the real run carrying the dry run's plan repairs through the live path and stores the findings", async () => {
    const dry = await harness.sync({ from: DAY, to: DAY, dryRun: true });
    const run = await harness.sync({ from: DAY, to: DAY, planHash: dry.planHash! });
    expect(run).toMatchObject({ status: "completed", failure: null, findingsFound: planted.length, processed: 5 });
    const stored = await listFindings(db().kysely, { date: DAY, limit: 100 });
    expect(stored.map(({ kind, subject, status }) => `${kind} ${subject} ${status}`).sort()).toEqual([...planted].sort());
    const imported = await db().kysely.selectFrom("webhook_events").select(["imported", "status"]).where("event_id", "=", ids.aEvent!).executeTakeFirstOrThrow();
    expect(imported).toEqual({ imported: 1, status: "processed" });
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("the findings are listed by date and status to an admin, and counted in /metrics", async () => {
    const admin = await createApiToken(db().kysely, { role: "admin", name: "sync-admin", now: harness.clock.now });
    const headers = { authorization: `Bearer ${admin.token}` };
    const open = await harness.app.inject({ method: "GET", url: `/api/reconciliation/provider-findings?date=${DAY}&status=open`, headers });
    expect(open.statusCode).toBe(200);
    const openLines = (open.json().findings as { kind: string; subject: string; status: string }[]).map(({ kind, subject, status }) => `${kind} ${subject} ${status}`);
    expect(openLines.sort()).toEqual(planted.filter((line) => line.endsWith(" open")).sort());
    const refused = await harness.app.inject({ method: "GET", url: `/api/reconciliation/provider-findings?status=closed`, headers });
    expect([refused.statusCode, refused.json().error.code]).toEqual([400, "invalid_query"]);
    const metrics = (await harness.app.inject({ method: "GET", url: "/metrics" })).body;
    const count = (kind: string, status: string) => metricSample(metrics, "reckon_provider_findings", { provider: "paynow", kind, status });
    expect(count("missing_delivery", "repaired")).toBe(5);
    expect(count("credited_not_paid", "reported")).toBe(1);
    expect(count("paid_not_credited", "open")).toBe(2);
    expect(metrics).not.toContain('kind="user_unknown"');
  });

  it("open findings are resolved with one audited action each, through the same path", async () => {
    const open = await listFindings(db().kysely, { status: "open", limit: 100 });
    const options = { actor: "admin:test", now: harness.clock.now, reversalPolicy: harness.config.webhooks.reversalPolicy };
    for (const finding of open) {
      if (finding.kind === "paid_not_credited") {
        expect(await resolveFinding(db(), { id: finding.id, ...options })).toEqual({ outcome: "uid_required" });
        expect((await resolveFinding(db(), { id: finding.id, uid: uidFor.get(finding.subject)!, ...options })).outcome).toBe("resolved");
      } else {
        expect((await resolveFinding(db(), { id: finding.id, ...options })).outcome).toBe("resolved");
      }
      expect(await resolveFinding(db(), { id: finding.id, uid: "u_g", ...options })).toEqual({ outcome: "finding_not_open", status: "resolved" });
    }
    const audits = await db().kysely.selectFrom("audit_log").select("subject").where("action", "=", "provider_finding.resolve").execute();
    expect(audits.map((row) => row.subject).sort()).toEqual(open.map((finding) => finding.id).sort());
    for (const [uid, points] of expected) expect([uid, await walletPoints(db(), uid)]).toEqual([uid, points]);
  });

  it("a second run finds nothing new and changes nothing; the invariant and reports verify hold", async () => {
    const before = await tableHashes(db(), ["data_migrations"]);
    const run = await harness.sync({ from: DAY, to: DAY });
    expect(run).toMatchObject({ status: "completed", processed: 0 });
    // Only the standing report remains: a credit the provider shows canceled is never healed.
    expect(summary(run)).toEqual(planted.filter((line) => line.startsWith("credited_not_paid")));
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    const reconciled = await reconcileJob(db(), harness.config, { date: "2026-03-11", now: () => harness.clock.now });
    expect(reconciled.outcome).toBe("completed");
    expect(await invariantViolations(db())).toEqual([]);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
    const report = await readDayReport(db().kysely, "2026-03-11");
    const found = Object.fromEntries(report!.providerFindings.map((group) => [`${group.kind} ${group.status}`, group.count]));
    expect(found).toEqual({ "missing_delivery repaired": 5, "paid_not_credited resolved": 2, "refund_not_reversed resolved": 1, "credited_not_paid reported": 1 });
  });

  it("a late real delivery of a repaired event is a duplicate and changes nothing", async () => {
    const before = await tableHashes(db(), ["data_migrations"]);
    expect(await harness.store.redeliver(ids.aEvent!)).toBe(200);
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    expect(await walletPoints(db(), "u_a")).toBe(POINTS_PER_UNIT);
  });
});

describeEachEngine("provider sync when PayNow's API fails", (db) => {
  let harness: PaynowSyncHarness;
  const lost: string[] = [];

  beforeAll(async () => {
    harness = await paynowSyncHarness(db(), SALES_START, { PROVIDER_SYNC_ATTEMPTS: "3", PROVIDER_SYNC_TIMEOUT_MS: "300" });
    for (let n = 0; n < 6; n++) {
      harness.store.dropNext();
      await sell(harness, `u_lost${n}`);
      lost.push(`u_lost${n}`);
    }
    harness.clock.now = NEXT_MORNING;
  });
  afterAll(() => harness.close());

  it("429s, 500s and a request that never answers are retried with backoff", async () => {
    harness.api.failNext("429", 2);
    expect(await harness.sync({ from: DAY, to: DAY, dryRun: true })).toMatchObject({ status: "completed", findingsFound: lost.length });
    harness.api.failNext("hang", 1, 1);
    expect(await harness.sync({ from: DAY, to: DAY, dryRun: true })).toMatchObject({ status: "completed", findingsFound: lost.length });
    harness.api.failNext("500", 2, 2);
    expect(await harness.sync({ from: DAY, to: DAY, dryRun: true })).toMatchObject({ status: "completed", findingsFound: lost.length });
    const statuses = harness.api.requests.map((request) => request.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    expect(statuses.filter((status) => status === 500)).toHaveLength(2);
    expect(statuses.filter((status) => status === "hang")).toHaveLength(1);
  });

  it("a run that gives up is failed with its cursor, and resumes without crediting twice", async () => {
    // The subscription list and the first history page answer; then the API keeps failing.
    harness.api.failNext("500", 3, 2);
    const failed = await harness.sync({ from: DAY, to: DAY });
    expect(failed).toMatchObject({ status: "failed", failure: { reason: "provider_failed" } });
    expect(failed.syncCursor).not.toBeNull();
    expect(failed.processed).toBe(lost.length);
    const resumed = await resumeBackfill(backfillDeps(db(), harness.config, () => harness.clock.now), failed.id);
    expect(resumed.outcome).toBe("resumed");
    if (resumed.outcome !== "resumed") return;
    expect(await resumed.done).toMatchObject({ status: "completed", processed: lost.length });
    for (const uid of lost) expect(await walletPoints(db(), uid)).toBe(POINTS_PER_UNIT);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

describeEachEngine("the nightly reconciliation syncs the previous day with PayNow first", (db) => {
  let harness: PaynowSyncHarness;

  beforeAll(async () => {
    harness = await paynowSyncHarness(db(), SALES_START);
    harness.store.dropNext();
    await sell(harness, "u_nightly");
    harness.clock.now = NEXT_MORNING;
  });
  afterAll(() => harness.close());

  it("a delivery lost yesterday is credited before tonight's report is written", async () => {
    const schedule = scheduleReconciliation(db(), harness.config, { now: () => harness.clock.now });
    try {
      expect(await schedule.tick()).toMatchObject({ outcome: "completed" });
    } finally {
      schedule.stop();
    }
    expect(await walletPoints(db(), "u_nightly")).toBe(POINTS_PER_UNIT);
    const runs = await db().kysely.selectFrom("data_migrations").select(["type", "status", "params"]).execute();
    expect(runs.map((run) => [run.type, run.status, JSON.parse(run.params).startDate])).toEqual([["provider_sync", "completed", DAY]]);
    const report = await readDayReport(db().kysely, "2026-03-11");
    expect(report!.providerFindings).toEqual([{ provider: "paynow", kind: "missing_delivery", status: "repaired", count: 1 }]);
  });

  it("a malformed provider answer is a reported finding, never a credit", async () => {
    const order = harness.store.orders[0]!;
    (order as { total_amount: unknown }).total_amount = "500";
    harness.store.history.push({ ...harness.store.history[0]!, id: harness.store.newId(), created_at: `${DAY}T12:00:00.000Z`, state: "failed", payload: { event_type: "ON_ORDER_COMPLETED", event_id: harness.store.newId(), body: { id: "1", lines: "none" } } });
    const run = await harness.sync({ from: DAY, to: DAY, dryRun: true });
    expect(run.status).toBe("completed");
    expect(summary(run)).toEqual([`malformed_record orders:${order.id} reported`, `malformed_record ${harness.store.history.at(-1)!.payload.event_id} reported`].sort());
    expect(run.plannedEntries).toBe(0);
  });
});

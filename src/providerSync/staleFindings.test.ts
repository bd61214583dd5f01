import { afterAll, beforeAll, expect, it } from "vitest";
import { metricSample } from "../../test/support/metricSample.js";
import { paynowSyncHarness, POINTS_PER_UNIT, PRICE_MINOR, sell, tick, type PaynowSyncHarness } from "../../test/support/paynowSyncHarness.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { walletPoints } from "../../test/support/webhookFixtures.js";
import { reconcileJob } from "../reconcile/reconcileJob.js";
import { verifyReports } from "../reconcile/verifyReports.js";
import { listFindings } from "./storeFindings.js";

const DAY = "2026-06-10";
const NEXT_MORNING = new Date("2026-06-11T03:00:00.000Z");

describeEachEngine("an open finding whose cause is fixed later closes itself on the next sync", (db) => {
  let harness: PaynowSyncHarness;
  /** History entries taken out so the first sync has no payload to import; put back for the late deliveries. */
  const withheld: PaynowSyncHarness["store"]["history"] = [];
  const subjects: Record<string, string> = {};

  /** A sample of `reckon_provider_findings` for PayNow; a kind and status no finding has is 0. */
  async function findingsMetric(kind: string, status: string): Promise<number> {
    const text = (await harness.app.inject({ method: "GET", url: "/metrics" })).body;
    try {
      return metricSample(text, "reckon_provider_findings", { provider: "paynow", kind, status });
    } catch {
      return 0;
    }
  }
  const statusOf = async (subject: string) => {
    const [finding] = (await listFindings(db().kysely, { limit: 100 })).filter((candidate) => candidate.subject === subject);
    return finding ? `${finding.kind} ${finding.status} ${finding.closeReason ?? "-"}` : "none";
  };
  function withhold(eventId: string): void {
    withheld.push(...harness.store.history.splice(harness.store.history.findIndex((entry) => entry.payload.event_id === eventId), 1));
  }

  beforeAll(async () => {
    harness = await paynowSyncHarness(db(), new Date(`${DAY}T09:00:00.000Z`));
    const { store } = harness;
    // A sale whose delivery failed and is missing from the history the sync reads.
    store.dropNext();
    const late = await sell(harness, "u_late");
    withhold(late.eventId);
    subjects.late = `paynow:order:${late.order.id}`;
    subjects.lateEvent = late.eventId;
    // A refund in the same state.
    const refunded = await sell(harness, "u_refunded");
    tick(harness.clock);
    store.dropNext();
    const refund = await store.refund(refunded.order.id, PRICE_MINOR);
    withhold(refund.eventId);
    subjects.refund = `paynow:refund:${refund.refund.id}`;
    subjects.refundEvent = refund.eventId;
    // A credit the provider shows canceled for now.
    const canceled = await sell(harness, "u_canceled");
    store.orders.find((order) => order.id === canceled.order.id)!.status = "canceled";
    subjects.canceled = `paynow:order:${canceled.order.id}`;
    // A sale with no user whose cause nothing fixes.
    const nobody = await sell(harness, null);
    subjects.nobody = `paynow:order:${nobody.order.id}`;
    harness.clock.now = NEXT_MORNING;
  });
  afterAll(() => harness.close());

  it("the first sync opens them, and the night's report commits to them open", async () => {
    expect(await harness.sync({ from: DAY, to: DAY })).toMatchObject({ status: "completed", findingsFound: 4 });
    expect(await statusOf(subjects.late!)).toBe("paid_not_credited open -");
    expect(await statusOf(subjects.refund!)).toBe("refund_not_reversed open -");
    expect(await statusOf(subjects.canceled!)).toBe("credited_not_paid reported -");
    expect([await findingsMetric("paid_not_credited", "open"), await findingsMetric("refund_not_reversed", "open"), await findingsMetric("credited_not_paid", "reported")]).toEqual([2, 1, 1]);
    expect(await reconcileJob(db(), harness.config, { date: "2026-06-11", now: () => harness.clock.now })).toMatchObject({ outcome: "completed" });
  });

  it("late signed deliveries and the provider showing the order paid again close them on the next sync, audited, without touching the ledger", async () => {
    const { store } = harness;
    store.history.push(...withheld);
    tick(harness.clock, 3600);
    expect(await store.redeliver(subjects.lateEvent!)).toBe(200);
    expect(await store.redeliver(subjects.refundEvent!)).toBe(200);
    expect([await walletPoints(db(), "u_late"), await walletPoints(db(), "u_refunded")]).toEqual([POINTS_PER_UNIT, 0]);
    store.orders.find((order) => `paynow:order:${order.id}` === subjects.canceled)!.status = "completed";

    const ledger = ["wallets", "ledger_entries", "webhook_purchases", "webhook_reversals"];
    const before = await tableHashes(db(), ["data_migrations", "provider_findings", "audit_log", "webhook_events", "job_leases", "reckon_meta"]);
    const run = await harness.sync({ from: DAY, to: DAY });
    expect(run).toMatchObject({ status: "completed", processed: 0 });
    const after = await tableHashes(db(), ["data_migrations", "provider_findings", "audit_log", "webhook_events", "job_leases", "reckon_meta"]);
    for (const table of ledger) expect([table, after[table]]).toEqual([table, before[table]]);

    expect(await statusOf(subjects.late!)).toBe("paid_not_credited resolved fixed_by_delivery");
    expect(await statusOf(subjects.refund!)).toBe("refund_not_reversed resolved fixed_by_delivery");
    expect(await statusOf(subjects.canceled!)).toBe("credited_not_paid resolved provider_shows_paid");
    expect(await statusOf(subjects.nobody!)).toBe("paid_not_credited open -");
    const audits = await db().kysely.selectFrom("audit_log").select(["actor", "details"]).where("action", "=", "provider_finding.close").execute();
    expect(audits).toHaveLength(3);
    expect(audits.every((audit) => audit.actor === `provider_sync:${run.id}`)).toBe(true);
    expect(audits.map((audit) => (JSON.parse(audit.details) as { reason: string }).reason).sort()).toEqual(["fixed_by_delivery", "fixed_by_delivery", "provider_shows_paid"]);
    expect([
      await findingsMetric("paid_not_credited", "open"),
      await findingsMetric("paid_not_credited", "resolved"),
      await findingsMetric("refund_not_reversed", "open"),
      await findingsMetric("refund_not_reversed", "resolved"),
      await findingsMetric("credited_not_paid", "reported"),
      await findingsMetric("credited_not_paid", "resolved"),
    ]).toEqual([1, 1, 0, 1, 0, 1]);
  });

  it("a sync that finds them closed closes nothing again; the chain that committed to them open still verifies", async () => {
    const before = await tableHashes(db(), ["data_migrations"]);
    expect(await harness.sync({ from: DAY, to: DAY })).toMatchObject({ status: "completed", processed: 0 });
    expect(await tableHashes(db(), ["data_migrations"])).toEqual(before);
    expect(await invariantViolations(db())).toEqual([]);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });
});

import { afterAll, beforeAll, expect, it } from "vitest";
import { backfillHarness, type BackfillHarness } from "../../../test/support/backfillKit.js";
import { plantStripeStory, POINTS_PER_UNIT, STRIPE_PRICE, stripeDelivery, type StripeStory } from "../../../test/support/stripeSyncScenario.js";
import { tableHashes } from "../../../test/support/tableHashes.js";
import { describeEachEngine, invariantViolations } from "../../../test/support/testDatabase.js";
import { catalogue, walletPoints } from "../../../test/support/webhookFixtures.js";
import { newBackfillRunId } from "../../backfill/backfillDeps.js";
import type { BackfillRun } from "../../backfill/backfillRuns.js";
import { resumeBackfill } from "../../backfill/resumeBackfill.js";
import { startBackfill, type BackfillDeps } from "../../backfill/startBackfill.js";
import { runReconciliation } from "../../reconcile/runReconciliation.js";
import { resolveFinding } from "../resolveFinding.js";
import { verifyReports } from "../../reconcile/verifyReports.js";
import { startFakeStripeApi } from "../../demo/fakeStripeApi.js";
import { FakeStripeWebhooks } from "../../demo/fakeStripeWebhooks.js";
import { createStripeClient } from "./stripeClient.js";

const DAY = "2026-01-01";

describeEachEngine("provider sync with Stripe: the fake sells, webhooks are lost, the sync finds and repairs them", (db) => {
  let h: BackfillHarness;
  let story: StripeStory;
  let deps: BackfillDeps;

  /** A sync of DAY through the official SDK against the fake: small pages, quick retries. */
  async function sync(dryRun = false): Promise<BackfillRun> {
    const started = await startBackfill(deps, { type: "provider_sync", provider: "stripe", startDate: DAY, endDate: DAY, dryRun, maxEvents: 1_000_000, planHash: null });
    if (started.outcome !== "started") throw new Error(`sync did not start: ${started.outcome}`);
    return started.done;
  }
  /** Every table but the runs' own records. */
  const everythingElse = () => tableHashes(db(), ["data_migrations"]);
  const wallets = async () => {
    const points = new Map<string, number | null>();
    for (const uid of story.expectedPoints.keys()) points.set(uid, await walletPoints(db(), uid));
    return points;
  };
  const findingSet = (run: BackfillRun) => run.findingsSample.map((finding) => `${finding.kind} ${finding.subject}`).sort();

  beforeAll(async () => {
    h = await backfillHarness(db());
    await catalogue(db(), "stripe", STRIPE_PRICE, POINTS_PER_UNIT);
    story = await plantStripeStory(h, DAY, 12);
    const client = createStripeClient({ apiKey: story.api.apiKey, apiUrl: story.api.url, pageSize: 5, maxNetworkRetries: 1, timeoutMs: 400, rateLimit: { retries: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    deps = {
      db: db(),
      now: () => h.clock.now,
      newId: () => newBackfillRunId(h.clock.now),
      reversalPolicy: "allow_negative",
      batchSize: 500,
      sync: { environment: "test", clientFor: (provider) => (provider === "stripe" ? client : null) },
    };
  });
  afterAll(() => story?.api.close());

  /** The findings the story planted, by kind and subject (the credited-not-paid one by kind only: its subject is Reckon's reference). */
  function plantedFindings(): string[] {
    const nobody = `stripe:checkout:${story.nobodysSale.sessionId}`;
    const nobodysEvent = story.api.account.records("events").find((event) => event["type"] === "checkout.session.completed" && (event["data"] as { object: { id: string } }).object.id === story.nobodysSale.sessionId)!;
    return [
      ...story.lostEventIds.filter((id) => id !== nobodysEvent.id).map((id) => `missing_delivery ${id}`),
      // One cause, one finding: the imported delivery names no user, and its session adds none.
      `paid_not_credited ${nobody}`,
    ].sort();
  }
  const withoutUnknownCredit = (findings: string[]) => findings.filter((finding) => !finding.startsWith("credited_not_paid "));

  it("before the sync, what the lost deliveries carried is missing and everything delivered is applied once", async () => {
    const wrong = [...(await wallets())].filter(([uid, points]) => points !== story.expectedPoints.get(uid)).map(([uid]) => uid);
    // Lost: a purchase (7), a refund (1), a dispute (3), a dispute's win (4).
    expect(wrong.sort()).toEqual(["stripe_sync_1", "stripe_sync_3", "stripe_sync_4", "stripe_sync_7"]);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a dry run lists exactly the planted findings and writes nothing but its record", async () => {
    const before = await everythingElse();
    const dry = await sync(true);
    expect(dry).toMatchObject({ status: "completed", dryRun: true });
    expect(withoutUnknownCredit(findingSet(dry))).toEqual(plantedFindings());
    expect(dry.findingsSample.filter((finding) => finding.kind === "credited_not_paid")).toEqual([expect.objectContaining({ uid: "stripe_sync_unknown", status: "reported" })]);
    expect(dry.findingsFound).toBe(plantedFindings().length + 1);
    expect(await everythingElse()).toEqual(before);
  });

  it("the real run repairs every lost delivery through the live path; the open and reported findings stay", async () => {
    const run = await sync();
    expect(run).toMatchObject({ status: "completed", failure: null });
    expect(withoutUnknownCredit(findingSet(run))).toEqual(plantedFindings());
    const stored = await db().kysely.selectFrom("provider_findings").select(["kind", "subject", "status"]).where("provider", "=", "stripe").execute();
    expect(stored.filter((finding) => finding.kind === "missing_delivery").every((finding) => finding.status === "repaired")).toBe(true);
    expect(stored.filter((finding) => finding.kind !== "missing_delivery").map((finding) => `${finding.kind} ${finding.status}`).sort()).toEqual([
      "credited_not_paid reported",
      "paid_not_credited open",
    ]);
    expect(await wallets()).toEqual(story.expectedPoints);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("an admin names the user of the sale Stripe knows no user for: one audited action credits it once, through the same purchase key", async () => {
    const subject = `stripe:checkout:${story.nobodysSale.sessionId}`;
    const open = await db().kysely.selectFrom("provider_findings").select(["id", "kind"]).where("subject", "=", subject).where("status", "=", "open").orderBy("kind").execute();
    expect(open.map((finding) => finding.kind)).toEqual(["paid_not_credited"]);
    const options = { actor: "admin:test", now: h.clock.now, reversalPolicy: "allow_negative" as const };
    for (const finding of open) {
      expect(await resolveFinding(db(), { id: finding.id, ...options })).toEqual({ outcome: "uid_required" });
      expect((await resolveFinding(db(), { id: finding.id, uid: "stripe_sync_named", ...options })).outcome).toBe("resolved");
    }
    story.expectedPoints.set("stripe_sync_named", POINTS_PER_UNIT);
    expect(await wallets()).toEqual(story.expectedPoints);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("a second run finds nothing new and changes no wallet or entry", async () => {
    const before = await everythingElse();
    const again = await sync();
    expect(again).toMatchObject({ status: "completed", processed: 0 });
    expect(again.findingsSample.filter((finding) => finding.status === "repaired")).toEqual([]);
    expect(await everythingElse()).toEqual(before);
  });

  it("a late real delivery of every repaired event is a duplicate that changes nothing; the invariant and the report chain hold", async () => {
    const before = await everythingElse();
    for (const eventId of story.lostEventIds) expect(await story.webhooks.redeliver(eventId)).toBe(200);
    expect(await everythingElse()).toEqual(before);
    expect(await wallets()).toEqual(story.expectedPoints);

    const reconciled = await runReconciliation(db(), { date: DAY, policy: "adjust_ledger", chunkUsers: 50, mode: "start", now: () => h.clock.now });
    expect(reconciled.outcome).toBe("completed");
    expect(await invariantViolations(db())).toEqual([]);
    const verdict = await verifyReports(db().kysely);
    expect(verdict.problems).toEqual([]);
    expect(verdict.runsChecked).toBeGreaterThan(0);
  });

  it("429s, a 500 and an answer slower than the timeout are retried, and the run repairs as if none had happened", async () => {
    const lost = await story.sellAndLose(2);
    story.api.fail({ fault: { kind: "status", status: 429 }, times: 2, path: "/v1/events" });
    story.api.fail({ fault: { kind: "status", status: 500 }, times: 1, path: "/v1/checkout/sessions" });
    story.api.fail({ fault: { kind: "slow", delayMs: 3_000 }, times: 1, path: "/v1/refunds" });
    const run = await sync();
    expect(run).toMatchObject({ status: "completed", failure: null, processed: lost.length });
    expect(story.api.requests.filter((request) => request.status === 429 || request.status === 500)).toHaveLength(3);
    expect(await wallets()).toEqual(story.expectedPoints);
  });

  it("a run that gives up midway is failed with its cursor, and resumes without crediting anything twice", async () => {
    const lost = await story.sellAndLose(8); // two pages of five
    story.api.fail({ fault: { kind: "status", status: 503 }, times: Infinity, path: "/v1/events", after: 1 });
    const failed = await sync();
    expect(failed).toMatchObject({ status: "failed", failure: { reason: "provider_failed", detail: expect.stringContaining("server_error") } });
    expect(JSON.parse(failed.syncCursor!)).toMatchObject({ phase: "events", after: expect.stringMatching(/^evt_/) });
    expect(failed.processed).toBe(5);
    const creditedBefore = [...(await wallets())].filter(([uid, points]) => uid.startsWith("stripe_sync_more_") && points !== null).length;
    expect(creditedBefore).toBe(2 + 5);

    story.api.clearFaults();
    const resumed = await resumeBackfill(deps, failed.id);
    if (resumed.outcome !== "resumed") throw new Error(`not resumed: ${resumed.outcome}`);
    const done = await resumed.done;
    expect(done).toMatchObject({ status: "completed", processed: lost.length });
    expect(await wallets()).toEqual(story.expectedPoints);
    expect(await invariantViolations(db())).toEqual([]);
    const repaired = await db().kysely.selectFrom("provider_findings").select("subject").where("kind", "=", "missing_delivery").where("subject", "in", lost).execute();
    expect(repaired.map((finding) => finding.subject).sort()).toEqual([...lost].sort());
  });

  it("malformed answers are findings, never credits; once Stripe answers properly the next run repairs", async () => {
    const lost = await story.sellAndLose(1);
    const uid = [...story.expectedPoints.keys()].at(-1)!;
    // Every list garbled; the newest sessions page once (the credits it hid are then looked up one by one, properly answered).
    for (const path of ["/v1/events", "/v1/refunds", "/v1/disputes"]) story.api.fail({ fault: { kind: "malformed" }, times: Infinity, path });
    story.api.fail({ fault: { kind: "malformed" }, times: 1, path: "/v1/checkout/sessions" });
    const garbled = await sync();
    expect(garbled).toMatchObject({ status: "completed", failure: null });
    expect(garbled.findingsSample.filter((finding) => finding.subject.endsWith(lost[0]!))).toEqual([expect.objectContaining({ kind: "malformed_record", status: "reported" })]);
    expect(garbled.processed).toBe(0);
    expect(await walletPoints(db(), uid)).toBeNull();

    story.api.clearFaults();
    expect(await sync()).toMatchObject({ status: "completed", processed: 1 });
    expect(await wallets()).toEqual(story.expectedPoints);
  });
});

describeEachEngine("the backfill job syncs Stripe with the client configured by STRIPE_API_KEY and STRIPE_API_URL", (db) => {
  it("a purchase whose webhook was lost is credited by POST /api/jobs/backfill {type: provider_sync, provider: stripe}", async () => {
    const api = await startFakeStripeApi({ now: () => new Date(`${DAY}T08:00:00.000Z`) });
    try {
      const h = await backfillHarness(db(), { STRIPE_API_KEY: api.apiKey, STRIPE_API_URL: api.url });
      await catalogue(db(), "stripe", STRIPE_PRICE, POINTS_PER_UNIT);
      api.account.sell({ uid: "stripe_job_user", priceId: STRIPE_PRICE, quantity: 3, amountMinor: 2100 });
      const webhooks = new FakeStripeWebhooks(api.account, { secret: h.secrets.stripe, send: stripeDelivery(h), now: () => h.clock.now });
      webhooks.decide((event) => (event["type"] === "checkout.session.completed" ? "drop" : "deliver"));
      await webhooks.flush();
      expect(await walletPoints(db(), "stripe_job_user")).toBeNull();

      const response = await h.job({ type: "provider_sync", provider: "stripe", startDate: DAY, endDate: DAY });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ status: "completed", processed: 1 });
      expect(await walletPoints(db(), "stripe_job_user")).toBe(3 * POINTS_PER_UNIT);
      expect(api.requests.map((request) => request.path)).toContain("/v1/events");
    } finally {
      await api.close();
    }
  });
});

import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { buildApp } from "../../src/http/buildApp.js";
import { storeFailedEvent } from "../support/backfillKit.js";
import { startLocalOidcIssuer, validClaims, type LocalOidcIssuer } from "../support/localOidcIssuer.js";
import { metricSample as sample } from "../support/metricSample.js";
import { startSecondInstance, type SecondInstance } from "../support/secondInstance.js";
import { JOB_AUDIENCE, JOB_SUBJECT, securityEnv } from "../support/securityApp.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../support/testDatabase.js";
import { catalogue, makeSecrets, NOW, paynowOrder, sendPaynow, webhookConfig, walletPoints, type WebhookHarness } from "../support/webhookFixtures.js";

/**
 * The scenario: purchases through signed webhooks, a drift planted by editing wallet
 * rows, a reconciliation, a backfill in which one event fails; then `/metrics` of a
 * second `reckon serve` process, which ran none of it, on the same database. Every
 * expected figure comes from what the test planted, not from Reckon.
 */
const POINTS_PER_UNIT = 10;
const PURCHASES = [
  { uid: "u1", quantity: 3 },
  { uid: "u2", quantity: 1 },
  { uid: "u3", quantity: 2 },
];
/** Wallet edits made behind the ledger's back. */
const DRIFTS = [
  { uid: "u1", by: 7 },
  { uid: "u3", by: -4 },
];
/** Deliveries stored failed by an outage: two that apply on replay, one for a product nobody sells. */
const OUTAGE = [
  { uid: "u4", productId: "p1" },
  { uid: "u5", productId: "p1" },
  { uid: "u6", productId: "not-in-catalogue" },
];
const RUN_DATE = NOW.toISOString().slice(0, 10);

type LogLine = Record<string, unknown> & { msg?: string; reqId?: string };

for (const engine of ENGINES) {
  describe(`stored-state metrics on a second instance [${engine}]`, () => {
    let database: TestDatabase;
    let app: FastifyInstance;
    let issuer: LocalOidcIssuer;
    let second: SecondInstance;
    let metricsText = "";
    let reconcileBody: { runId: number };
    let backfillBody: { id: string };
    const logged: LogLine[] = [];
    const failedEventIds: string[] = [];

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      const db = database.db;
      issuer = await startLocalOidcIssuer();
      const secrets = makeSecrets();
      app = await buildApp({
        db,
        config: webhookConfig(secrets, securityEnv(issuer)),
        now: () => NOW,
        log: true,
        logStream: { write: (line: string) => void logged.push(JSON.parse(line) as LogLine) },
      });
      const harness: WebhookHarness = { app, secrets, clock: { now: NOW } };
      const job = { authorization: `Bearer ${await issuer.sign({ ...validClaims(issuer.issuer, JOB_AUDIENCE, NOW), sub: JOB_SUBJECT })}` };
      await createApiToken(db.kysely, { role: "admin", name: "scenario", now: NOW });
      await catalogue(db, "paynow", "p1", POINTS_PER_UNIT);

      for (const [index, purchase] of PURCHASES.entries()) {
        const delivery = paynowOrder({ orderId: `order-${index}`, uid: purchase.uid, lines: [{ productId: "p1", quantity: purchase.quantity }] });
        expect((await sendPaynow(harness, delivery)).statusCode).toBe(200);
        expect(await walletPoints(db, purchase.uid)).toBe(purchase.quantity * POINTS_PER_UNIT);
      }
      for (const drift of DRIFTS) {
        await sql`UPDATE wallets SET points = points + ${drift.by} WHERE uid = ${drift.uid}`.execute(db.kysely);
      }
      const reconciled = await app.inject({ method: "POST", url: "/api/jobs/reconcile", headers: job, payload: { date: RUN_DATE } });
      expect(reconciled.statusCode).toBe(200);
      reconcileBody = reconciled.json();

      for (const [index, outage] of OUTAGE.entries()) {
        const delivery = paynowOrder({ orderId: `outage-${index}`, uid: outage.uid, lines: [{ productId: outage.productId, quantity: 1 }] });
        failedEventIds.push(delivery.event_id);
        await storeFailedEvent(db, delivery);
      }
      const backfilled = await app.inject({
        method: "POST",
        url: "/api/jobs/backfill",
        headers: job,
        payload: { type: "webhook_replay", startDate: RUN_DATE, endDate: RUN_DATE },
      });
      expect(backfilled.statusCode).toBeLessThan(300);
      backfillBody = backfilled.json();
      expect(backfillBody).toMatchObject({ status: "partial" });

      second = await startSecondInstance(database.url);
      metricsText = await (await fetch(`${second.url}/metrics`)).text();
    });

    afterAll(async () => {
      await second?.stop();
      await app?.close();
      await issuer?.close();
      await database?.drop();
    });

    it("shows the planted drift as wallet_invariant_violations and its absolute size as reconciliation_adjustment_amount", () => {
      expect(sample(metricsText, "wallet_invariant_violations")).toBe(DRIFTS.length);
      expect(sample(metricsText, "reconciliation_adjustment_amount")).toBe(DRIFTS.reduce((sum, drift) => sum + Math.abs(drift.by), 0));
      expect(sample(metricsText, "reconciliation_users_checked")).toBe(PURCHASES.length);
      expect(sample(metricsText, "reconciliation_last_success_timestamp_seconds")).toBe(NOW.getTime() / 1000);
      expect(sample(metricsText, "reconciliation_open_run_age_seconds")).toBe(0);
      const bySize = DRIFTS.map((drift) => drift.by).sort((a, b) => Math.abs(b) - Math.abs(a));
      for (let rank = 1; rank <= 5; rank++) {
        expect(sample(metricsText, "reconciliation_top_delta_points", { rank: String(rank) })).toBe(bySize[rank - 1] ?? 0);
      }
    });

    it("shows the backfill's events and its error rate: one failure in the outage's three events", () => {
      const failing = OUTAGE.filter((outage) => outage.productId !== "p1").length;
      expect(sample(metricsText, "backfill_processed_events", { type: "webhook_replay", outcome: "processed" })).toBe(OUTAGE.length - failing);
      expect(sample(metricsText, "backfill_processed_events", { type: "webhook_replay", outcome: "error" })).toBe(failing);
      expect(sample(metricsText, "backfill_processed_events", { type: "webhook_replay", outcome: "skipped" })).toBe(0);
      expect(sample(metricsText, "backfill_error_rate", { type: "webhook_replay" })).toBe(failing / OUTAGE.length);
      expect(sample(metricsText, "backfill_error_rate", { type: "reversal_backfill" })).toBe(0);
    });

    it("shows the event that is still failing, by provider and reason, and how long it has waited", () => {
      expect(sample(metricsText, "reckon_webhook_events_waiting", { provider: "paynow", status: "failed", reason: "unknown_product" })).toBe(1);
      expect(sample(metricsText, "reckon_webhook_events_waiting_age_seconds", { provider: "paynow", status: "failed" })).toBeGreaterThan(0);
      expect(sample(metricsText, "reckon_webhook_events_waiting_age_seconds", { provider: "stripe", status: "failed" })).toBe(0);
      expect(sample(metricsText, "reckon_runtime_flag", { name: "adjustments_frozen" })).toBe(0);
    });

    it("logs each heal with its run, request, before and after", () => {
      const request = logged.find((line) => line.msg === "incoming request" && (line["req"] as { url?: string })?.url === "/api/jobs/reconcile");
      const heals = logged.filter((line) => line.msg === "reconciliation heal");
      expect(heals.map((line) => line["uid"]).sort()).toEqual(DRIFTS.map((drift) => drift.uid).sort());
      for (const drift of DRIFTS) {
        const bought = PURCHASES.find((purchase) => purchase.uid === drift.uid)!.quantity * POINTS_PER_UNIT;
        expect(heals.find((line) => line["uid"] === drift.uid)).toMatchObject({
          event: "reconciliation_heal",
          runId: reconcileBody.runId,
          runDate: RUN_DATE,
          requestId: request!.reqId,
          migrationId: null,
          eventId: null,
          action: "adjusted",
          delta: drift.by,
          before: { walletPoints: bought + drift.by, ledgerSum: bought },
          after: { walletPoints: bought + drift.by, ledgerSum: bought + drift.by },
        });
      }
    });

    it("logs each backfill action with its migration, event, request, before and after", () => {
      const request = logged.find((line) => line.msg === "incoming request" && (line["req"] as { url?: string })?.url === "/api/jobs/backfill");
      const actions = logged.filter((line) => line.msg === "backfill action");
      expect(actions.map((line) => line["eventId"]).sort()).toEqual([...failedEventIds].sort());
      for (const [index, outage] of OUTAGE.entries()) {
        const applies = outage.productId === "p1";
        expect(actions.find((line) => line["eventId"] === failedEventIds[index])).toMatchObject({
          event: "backfill_action",
          migrationId: backfillBody.id,
          requestId: request!.reqId,
          runId: null,
          provider: "paynow",
          before: { status: "failed", failureReason: "internal_error" },
          after: applies ? { status: "processed", failureReason: null } : { status: "failed", failureReason: "unknown_product" },
        });
      }
    });
  });
}

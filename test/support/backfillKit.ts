import { afterAll } from "vitest";
import { createApiToken } from "../../src/auth/apiTokens.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { startLocalOidcIssuer, validClaims } from "./localOidcIssuer.js";
import { JOB_AUDIENCE, JOB_SUBJECT, securityEnv } from "./securityApp.js";
import { NOW, webhookHarness, type WebhookHarness } from "./webhookFixtures.js";

export interface BackfillHarness extends WebhookHarness {
  admin: { authorization: string };
  /** POST /api/jobs/backfill as the scheduler, with an OIDC token of the job role. */
  job(body: unknown): Promise<import("light-my-request").Response>;
}

/**
 * The real app with webhook secrets, a fixed clock on 2026-01-01, an admin token for
 * the read routes, and a local OIDC issuer (closed after the suite) for the job route.
 */
export async function backfillHarness(db: Db, extra: Record<string, string> = {}): Promise<BackfillHarness> {
  const issuer = await startLocalOidcIssuer();
  afterAll(() => issuer.close());
  const harness = await webhookHarness(db, { ...securityEnv(issuer), ...extra });
  const { token } = await createApiToken(db.kysely, { role: "admin", name: "backfill-test", now: NOW });
  const admin = { authorization: `Bearer ${token}` };
  const job = { authorization: `Bearer ${await issuer.sign({ ...validClaims(issuer.issuer, JOB_AUDIENCE, NOW), sub: JOB_SUBJECT, exp: Math.floor(NOW.getTime() / 1000) + 30 * 86_400 })}` };
  return {
    ...harness,
    admin,
    job: (body: unknown) =>
      harness.app.inject({ method: "POST", url: "/api/jobs/backfill", headers: job, payload: body as object }),
  };
}

/** Stores a delivery as if it had arrived and its processing had failed (an outage, an old bug). */
export async function storeFailedEvent(db: Db, delivery: { event_type: string; event_id: string }, receivedAt = NOW): Promise<void> {
  await db.kysely
    .insertInto("webhook_events")
    .values({
      provider: "paynow",
      event_id: delivery.event_id,
      event_type: delivery.event_type,
      status: "failed",
      failure_reason: "internal_error",
      failure_detail: "simulated outage",
      raw_body: Buffer.from(JSON.stringify(delivery)),
      headers: "{}",
      livemode: null,
      received_at: receivedAt.toISOString(),
    })
    .execute();
}

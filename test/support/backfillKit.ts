import { afterAll } from "vitest";
import { createApiToken } from "../../src/auth/apiTokens.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { startLocalOidcIssuer, validClaims } from "./localOidcIssuer.js";
import { JOB_AUDIENCE, JOB_SUBJECT, securityEnv } from "./securityApp.js";
import { NOW, paynowOrder, webhookHarness, type WebhookHarness } from "./webhookFixtures.js";

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
      raw_body: JSON.stringify(delivery),
      headers: "{}",
      livemode: null,
      received_at: receivedAt.toISOString(),
    })
    .execute();
}

/** `count` stored, never-applied PayNow orders for `product`, spread over 50 users. */
export function receivedOrderRows(input: { count: number; product: string; prefix: string }) {
  return Array.from({ length: input.count }, (_, index) => {
    const order = paynowOrder({ orderId: `${input.prefix}${index}`, uid: `${input.prefix}_u${index % 50}`, lines: [{ productId: input.product, quantity: 1 + (index % 3) }] });
    return {
      provider: "paynow",
      event_id: order.event_id,
      event_type: order.event_type,
      status: "received" as const,
      raw_body: JSON.stringify(order),
      headers: "{}",
      livemode: null,
      received_at: new Date(NOW.getTime() + index).toISOString(),
    };
  });
}

export async function insertEvents(db: Db, rows: ReturnType<typeof receivedOrderRows>): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    await db.kysely.insertInto("webhook_events").values(rows.slice(start, start + 500)).execute();
  }
}

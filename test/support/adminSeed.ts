import { sql } from "kysely";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { backfillDeps } from "../../src/backfill/backfillDeps.js";
import { startBackfill } from "../../src/backfill/startBackfill.js";
import { loadConfig } from "../../src/config.js";
import { reconcileJob } from "../../src/reconcile/reconcileJob.js";
import { listFindings, storeFindings } from "../../src/providerSync/storeFindings.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { withTransaction } from "../../src/storage/withTransaction.js";
import { catalogue, eventRow, flakeId, paynowOrder, paynowRefund, sendPaynow, webhookHarness, type WebhookHarness } from "./webhookFixtures.js";

/** The admin page's tests run on 2026-03-10 (UTC); the runs are of the three days before. */
export const PAGE_NOW = new Date("2026-03-10T12:00:00.000Z");

/**
 * Drift planted before each date's run (wallet moved behind the ledger's back), so each
 * run finds exactly these violations and heals exactly these amounts.
 */
export const PLANTED: Record<string, Record<string, number>> = {
  "2026-03-07": { page_user_1: 3, page_user_2: -40 },
  "2026-03-08": { page_user_3: 7 },
  "2026-03-09": { page_user_4: 1_250_000, page_user_5: -9 },
};

export interface AdminSeed {
  harness: WebhookHarness;
  admin: string;
  otherAdmin: string;
  service: string;
  /** Database ids of the stuck events: a purchase of a product added after it failed, a refund of an unknown order. */
  failedEventId: number;
  parkedEventId: number;
  migrationId: string;
  /** An open `paid_not_credited` finding: a paid PayNow order of 3 × P50 (150 points) that names no user. */
  unclaimedFindingId: string;
  /** A `credited_not_paid` standing report on page_user_1's order, which no action may touch. */
  reportedFindingId: string;
}

export const UNCLAIMED_POINTS = 150;

/**
 * What a PayNow sync stores for an order whose delivery named no user, and for a credit
 * whose order the provider shows canceled (the shapes `compareRecords` gives them).
 */
async function plantFindings(db: Db): Promise<{ unclaimedFindingId: string; reportedFindingId: string }> {
  const orderId = flakeId();
  const purchaseKey = `paynow:order:${orderId}`;
  const credit = { kind: "credit", purchaseKey, purchaseRefs: [purchaseKey], uid: null, lines: [{ catalogueIds: ["P50"], quantity: 3 }], paidMinor: 1500 };
  const credited = await db.kysely.selectFrom("webhook_purchases").select(["purchase_ref", "entry_id", "paid_minor"]).where("uid", "=", "page_user_1").executeTakeFirstOrThrow();
  await withTransaction(db, (trx) =>
    storeFindings(
      trx,
      "page-seed-sync",
      [
        { provider: "paynow", kind: "paid_not_credited", subject: purchaseKey, status: "open", date: "2026-03-09", uid: null, amountMinor: 1500, detail: { providerStatus: "completed", currency: "EUR", credit } },
        {
          provider: "paynow",
          kind: "credited_not_paid",
          subject: credited.purchase_ref,
          status: "reported",
          date: "2026-03-09",
          uid: "page_user_1",
          amountMinor: Number(credited.paid_minor),
          detail: { providerStatus: "canceled", creditedEntryId: Number(credited.entry_id) },
        },
      ],
      PAGE_NOW,
    ),
  );
  const stored = await listFindings(db.kysely, { limit: 10 });
  return {
    unclaimedFindingId: stored.find((finding) => finding.kind === "paid_not_credited")!.id,
    reportedFindingId: stored.find((finding) => finding.kind === "credited_not_paid")!.id,
  };
}

/**
 * A shop as the page should show it: five users who bought points through signed PayNow
 * deliveries, three reconciliation runs that healed planted drift, one failed purchase
 * that will apply once replayed, one parked refund, one dry-run backfill, and tokens.
 */
export async function seedAdminPage(db: Db): Promise<AdminSeed> {
  const harness = await webhookHarness(db, { AUTH_FAILURE_LIMIT: "1000" });
  harness.clock.now = PAGE_NOW;
  await catalogue(db, "paynow", "P50", 50);
  for (let index = 1; index <= 5; index++) {
    const order = paynowOrder({ orderId: flakeId(), uid: `page_user_${index}`, lines: [{ productId: "P50", quantity: index * 500 }] });
    await sendPaynow(harness, order);
  }
  const config = loadConfig({ ENVIRONMENT: "test" });
  for (const [date, drifts] of Object.entries(PLANTED)) {
    for (const [uid, drift] of Object.entries(drifts)) {
      await sql`UPDATE wallets SET points = points + ${drift} WHERE uid = ${uid}`.execute(db.kysely);
    }
    const outcome = await reconcileJob(db, config, { date, now: () => PAGE_NOW });
    if (outcome.outcome !== "completed") throw new Error(`seed run for ${date} ended ${outcome.outcome}`);
  }
  const failed = paynowOrder({ orderId: flakeId(), uid: "page_user_6", lines: [{ productId: "P_NEW", quantity: 1 }] });
  await sendPaynow(harness, failed);
  await catalogue(db, "paynow", "P_NEW", 120);
  const parked = paynowRefund({ orderId: flakeId(), refundedMinor: 500 });
  await sendPaynow(harness, parked);
  const started = await startBackfill(backfillDeps(db, config, () => PAGE_NOW), {
    type: "webhook_replay",
    startDate: "2026-03-01",
    endDate: "2026-03-10",
    dryRun: true,
    maxEvents: 1000,
    planHash: null,
  });
  if (started.outcome !== "started") throw new Error(`seed backfill ${started.outcome}`);
  const record = await started.done;
  const tokens = {
    admin: (await createApiToken(db.kysely, { role: "admin", name: "page-admin", now: PAGE_NOW })).token,
    otherAdmin: (await createApiToken(db.kysely, { role: "admin", name: "other-admin", now: PAGE_NOW })).token,
    service: (await createApiToken(db.kysely, { role: "service", name: "page-service", now: PAGE_NOW })).token,
  };
  return {
    harness,
    ...tokens,
    failedEventId: (await eventRow(db, "paynow", failed.event_id))!.id,
    parkedEventId: (await eventRow(db, "paynow", parked.event_id))!.id,
    migrationId: record.id,
    ...(await plantFindings(db)),
  };
}

import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { paynowSyncHarness, PRICE_MINOR, sell, tick, type PaynowSyncHarness } from "../../test/support/paynowSyncHarness.js";
import { listFindings } from "./storeFindings.js";

/**
 * What can go wrong with one PayNow sale, and the one finding (kind and subject) each
 * cause must yield: the independent model the sync is held to.
 */
const CAUSES = ["none", "delivery_lost", "no_uid", "no_uid_delivery_lost", "delivery_gone", "canceled_after_credit", "refund_delivery_lost", "refund_gone"] as const;
type Cause = (typeof CAUSES)[number];

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.parse("2026-05-01T00:00:00.000Z");

/** Plants `cause` on one sale and returns the finding it must yield, or null. */
async function plant(harness: PaynowSyncHarness, cause: Cause, n: number): Promise<string | null> {
  const { store } = harness;
  const uid = cause === "no_uid" || cause === "no_uid_delivery_lost" ? null : `u_cause${n}`;
  if (cause === "delivery_lost" || cause === "no_uid_delivery_lost" || cause === "delivery_gone") store.dropNext();
  const sale = await sell(harness, uid);
  const order = `paynow:order:${sale.order.id}`;
  const forget = (eventId: string) => store.history.splice(store.history.findIndex((entry) => entry.payload.event_id === eventId), 1);
  switch (cause) {
    case "none":
      return null;
    case "delivery_lost":
      return `missing_delivery ${sale.eventId}`;
    case "no_uid":
    case "no_uid_delivery_lost":
      return `paid_not_credited ${order}`;
    case "delivery_gone":
      forget(sale.eventId);
      return `paid_not_credited ${order}`;
    case "canceled_after_credit":
      store.orders.find((candidate) => candidate.id === sale.order.id)!.status = "canceled";
      return `credited_not_paid ${order}`;
    case "refund_delivery_lost":
    case "refund_gone": {
      tick(harness.clock);
      store.dropNext();
      const refund = await store.refund(sale.order.id, PRICE_MINOR);
      if (cause === "refund_delivery_lost") return `missing_delivery ${refund.eventId}`;
      forget(refund.eventId);
      return `refund_not_reversed paynow:refund:${refund.refund.id}`;
    }
  }
}

describeEachEngine("each cause a provider sync finds is one finding", (db) => {
  let harness: PaynowSyncHarness;
  let day = 0;

  beforeAll(async () => {
    harness = await paynowSyncHarness(db(), new Date(FIRST_DAY));
  });
  afterAll(() => harness.close());

  it("whatever mix of causes a day's sales carry, the sync stores and counts exactly one finding per planted cause", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...CAUSES), { minLength: 1, maxLength: 6 }), async (causes) => {
        // Each case sells on a day of its own and syncs that day alone.
        const date = new Date(FIRST_DAY + day * DAY_MS).toISOString().slice(0, 10);
        harness.clock.now = new Date(FIRST_DAY + day * DAY_MS + 9 * 3_600_000);
        day += 1;
        const expected: string[] = [];
        for (const [n, cause] of causes.entries()) {
          const finding = await plant(harness, cause, day * 10 + n);
          if (finding) expected.push(finding);
        }
        harness.clock.now = new Date(FIRST_DAY + day * DAY_MS + 3 * 3_600_000);
        const run = await harness.sync({ from: date, to: date });
        expect(run.status).toBe("completed");
        expect(run.findingsFound).toBe(expected.length);
        const stored = await listFindings(db().kysely, { date, limit: 1000 });
        expect(stored.map((finding) => `${finding.kind} ${finding.subject}`).sort()).toEqual(expected.sort());
        // A sale the provider knows no user for keeps what is known of it: the order, its amount, its product and when.
        for (const finding of stored.filter((candidate) => candidate.kind === "paid_not_credited")) {
          expect(finding).toMatchObject({ status: "open", uid: null, amountMinor: PRICE_MINOR });
          expect(finding.detail).toMatchObject({ occurredAt: expect.stringMatching(date), credit: { purchaseKey: finding.subject, lines: [expect.objectContaining({ catalogueIds: [expect.any(String)] })] } });
        }
      }),
      { numRuns: 4 },
    );
  });
});

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purchaseDeliveries, type PurchaseFate } from "../../test/support/purchaseDeliveries.js";
import { modelReversalTarget } from "../../test/support/reversalModel.js";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, NOW, walletPoints } from "../../test/support/webhookFixtures.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { pendingDelivery } from "./pendingDelivery.js";
import { storeDeliveries } from "./storeDeliveries.js";

/** One purchase and what happens to it; which user buys it is drawn too. */
interface Purchase extends PurchaseFate {
  user: number;
  points: number;
}

const purchaseArbitrary: fc.Arbitrary<Purchase> = fc.record({
  user: fc.nat({ max: 2 }),
  points: fc.integer({ min: 1, max: 5_000 }),
  paidMinor: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 10_000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  refundsMinor: fc.array(fc.integer({ min: 1, max: 6_000 }), { maxLength: 3 }),
  chargeback: fc.constantFrom("none", "open", "won", "lost"),
});

/** The purchases, how many deliveries are sent again, the arrival order and where it is cut into batches. */
const runArbitrary = fc
  .record({ purchases: fc.array(purchaseArbitrary, { minLength: 1, maxLength: 4 }), repeats: fc.array(fc.nat(), { maxLength: 4 }) })
  .chain(({ purchases, repeats }) => {
    const count = purchases.reduce((sum, purchase) => sum + deliveryCount(purchase), 0) + repeats.length;
    return fc.record({
      purchases: fc.constant(purchases),
      repeats: fc.constant(repeats),
      order: fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, count - 1) }), { maxLength: 3 }),
    });
  });

function deliveryCount(purchase: Purchase): number {
  return 1 + purchase.refundsMinor.length + (purchase.chargeback === "none" ? 0 : purchase.chargeback === "open" ? 1 : 2);
}

/** Stores the bodies in the given batches, one transaction each, as the commit queue does; returns each delivery's `duplicate`. */
async function storeInBatches(db: Db, bodies: string[], batches: number[][]): Promise<boolean[]> {
  const duplicate: boolean[] = [];
  for (const batch of batches) {
    const pending = batch.map((index) =>
      pendingDelivery({ provider: "paynow", rawBody: Buffer.from(bodies[index]!), headers: "{}", receivedAt: NOW, reversalPolicy: "allow_negative" }),
    );
    const stored = await withTransaction(db, (trx) => storeDeliveries(trx, pending));
    duplicate.push(...stored.map((result) => result.duplicate));
  }
  return duplicate;
}

/** The users' entries by key, each with the key of the entry it reverses: comparable across databases. */
async function ledgerOf(db: Db, uids: string[]) {
  return db.kysely
    .selectFrom("ledger_entries as e")
    .leftJoin("ledger_entries as r", "r.id", "e.reverses_entry_id")
    .select(["e.idempotency_key", "e.uid", "e.kind", "e.amount", "r.idempotency_key as reverses"])
    .where("e.uid", "in", uids)
    .orderBy("e.idempotency_key")
    .execute();
}

async function statusesOf(db: Db, eventIds: string[]) {
  const rows = await db.kysely.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").where("event_id", "in", eventIds).execute();
  return Object.fromEntries(rows.map((row) => [row.event_id, row.status]));
}

let run = 0;

for (const engine of ENGINES) {
  describe(`a batch gives the ledger that one-by-one application gives [${engine}]`, () => {
    let batched: TestDatabase;
    let single: TestDatabase;
    beforeAll(async () => {
      [batched, single] = await Promise.all([createTestDatabase(engine), createTestDatabase(engine)]);
    });
    afterAll(async () => {
      await Promise.all([batched?.drop(), single?.drop()]);
    });

    it("a shuffled batch with repeats and reversals before their purchase credits and reverses exactly as one delivery at a time, and as the rule says", async () => {
      await fc.assert(
        fc.asyncProperty(runArbitrary, async ({ purchases, repeats, order, cuts }) => {
          run++;
          const uids = [0, 1, 2].map((user) => `batch_eq_${run}_${user}`);
          const deliveries: Record<string, unknown>[] = [];
          for (const [index, purchase] of purchases.entries()) {
            const product = `batch_eq_product_${run}_${index}`;
            for (const database of [batched, single]) await catalogue(database.db, "paynow", product, purchase.points);
            deliveries.push(...purchaseDeliveries(purchase, uids[purchase.user]!, product));
          }
          // A repeat is the same event again, as a provider's retry sends it.
          const bodies = [...deliveries, ...repeats.map((pick) => deliveries[pick % deliveries.length]!)].map((body) => JSON.stringify(body));
          const arrival = order.map((index) => bodies[index]!);
          const bounds = [0, ...[...cuts].sort((a, b) => a - b).filter((cut) => cut < arrival.length), arrival.length];
          const batches = bounds.slice(1).map((end, index) => [...Array(end - bounds[index]!).keys()].map((offset) => bounds[index]! + offset));

          const batchedDuplicates = await storeInBatches(batched.db, arrival, batches);
          const singleDuplicates = await storeInBatches(single.db, arrival, arrival.map((_, index) => [index]));

          // A delivery is a duplicate exactly when its event arrived before, in any batch.
          const seen = new Set<string>();
          const expectedDuplicates = arrival.map((body) => seen.size === seen.add(body).size);
          expect(batchedDuplicates).toEqual(expectedDuplicates);
          expect(singleDuplicates).toEqual(expectedDuplicates);

          expect(await ledgerOf(batched.db, uids)).toEqual(await ledgerOf(single.db, uids));
          const eventIds = deliveries.map((delivery) => String(delivery.event_id));
          const statuses = await statusesOf(batched.db, eventIds);
          expect(statuses).toEqual(await statusesOf(single.db, eventIds));
          expect(Object.values(statuses).filter((status) => status !== "processed" && status !== "ignored")).toEqual([]);

          // The independent model: every purchase ends where the set of its refunds and chargeback puts it.
          for (const [user, uid] of uids.entries()) {
            const mine = purchases.filter((purchase) => purchase.user === user);
            const expected = mine.reduce((sum, p) => sum + p.points - modelReversalTarget(p.points, p.paidMinor, p.refundsMinor, p.chargeback), 0);
            expect(await walletPoints(batched.db, uid)).toBe(mine.length === 0 ? null : expected);
          }
        }),
        { numRuns: 25 },
      );
      expect(await invariantViolations(batched.db)).toEqual([]);
      expect(await invariantViolations(single.db)).toEqual([]);
    }, 600_000);
  });
}

import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, NOW, paynowChargeback, paynowOrder, paynowRefund, walletPoints } from "../../test/support/webhookFixtures.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { Db } from "../storage/openDatabase.js";
import { pendingDelivery } from "./pendingDelivery.js";
import { storeDeliveries } from "./storeDeliveries.js";
import type { StoredDelivery } from "./WebhookCommitQueue.js";

const PRODUCT = "concurrent_batches_product";
const POINTS = 100;

/**
 * One group commit, as a worker's commit queue runs it, but with a single attempt: two
 * batches must wait for each other, never deadlock (PostgreSQL would detect it after a
 * second and fail one of them, which the queue would run again; here that fails the test).
 */
function commit(db: Db, bodies: Record<string, unknown>[]): Promise<StoredDelivery[]> {
  const pending = bodies.map((body) =>
    pendingDelivery({ provider: "paynow", rawBody: Buffer.from(JSON.stringify(body)), headers: "{}", receivedAt: NOW, reversalPolicy: "allow_negative" }),
  );
  return withTransaction(db, (trx) => storeDeliveries(trx, pending), 1);
}

/** Rotates `items` by `by`, so two batches hold the same deliveries in different orders. */
const rotated = <T>(items: T[], by: number) => [...items.slice(by % items.length), ...items.slice(0, by % items.length)];

describeEachEngine("batches committed at once by two processes", (db) => {
  beforeAll(async () => {
    await catalogue(db(), "paynow", PRODUCT, POINTS);
  });
  afterAll(async () => {
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("touching the same users and the same events, they all commit, each event is stored once and each purchase credited and reversed once", async () => {
    const users = ["conc_a", "conc_b", "conc_c"];
    for (let round = 0; round < 8; round++) {
      const orders = users.flatMap((uid) => [0, 1].map(() => ({ uid, orderId: flakeId(), paymentId: flakeId() })));
      const purchases = orders.map(({ uid, orderId }) => paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 1 }] }));
      // Half of each order refunded, and the first order of each user charged back: some arrive before their purchase.
      const refunds = orders.map(({ orderId }) => paynowRefund({ orderId, refundedMinor: 250 }));
      const chargebacks = orders.filter((_, index) => index % 2 === 0).map(({ orderId, paymentId }) => paynowChargeback({ orderId, paymentId }));
      const all = [...purchases, ...refunds, ...chargebacks];
      // Both processes receive every delivery (a provider retrying at the other instance), in different orders and splits.
      const first = rotated(all, round);
      const second = rotated([...all].reverse(), round * 3);
      const answers = await Promise.all([
        commit(db(), first.slice(0, 7)),
        commit(db(), second.slice(0, 9)),
        commit(db(), first.slice(7)),
        commit(db(), second.slice(9)),
      ]);
      const [a1, b1, a2, b2] = answers;
      const fresh = (bodies: Record<string, unknown>[], stored: StoredDelivery[]) => bodies.filter((_, index) => !stored[index]!.duplicate).map((body) => body.event_id);
      const storedOnce = [...fresh(first.slice(0, 7), a1!), ...fresh(second.slice(0, 9), b1!), ...fresh(first.slice(7), a2!), ...fresh(second.slice(9), b2!)];
      expect(storedOnce.sort()).toEqual(all.map((body) => body.event_id).sort());
    }
    // Each user: 16 purchases of 100; the charged-back half lose all, the other half lose half.
    for (const uid of users) expect(await walletPoints(db(), uid)).toBe(8 * 50);
    const purchases = await db()
      .kysely.selectFrom("ledger_entries")
      .select((eb) => ["idempotency_key", eb.fn.countAll<number>().as("n")])
      .where("uid", "in", users)
      .where("kind", "=", "purchase")
      .groupBy("idempotency_key")
      .execute();
    expect(purchases).toHaveLength(users.length * 16);
    expect(purchases.filter((row) => Number(row.n) !== 1)).toEqual([]);
    const statuses = await db().kysely.selectFrom("webhook_events").select("status").distinct().where("provider", "=", "paynow").execute();
    expect(statuses.map((row) => row.status)).toEqual(["processed"]);
  });

  it("two batches each crediting one user and refunding the other's earlier purchase, in opposite orders, wait for each other instead of deadlocking", async () => {
    for (let round = 0; round < 10; round++) {
      const [u1, u2] = [`cross_a_${round}`, `cross_b_${round}`];
      const earlier = [u1, u2].map((uid) => ({ uid, orderId: flakeId() }));
      await commit(db(), earlier.map(({ uid, orderId }) => paynowOrder({ orderId, uid, lines: [{ productId: PRODUCT, quantity: 2 }] })));
      // Distinct purchases on each side, so no purchase name is shared: only the wallets are.
      const batchA = [paynowOrder({ orderId: flakeId(), uid: u1, lines: [{ productId: PRODUCT, quantity: 1 }] }), paynowRefund({ orderId: earlier[1]!.orderId, refundedMinor: 500 })];
      const batchB = [paynowOrder({ orderId: flakeId(), uid: u2, lines: [{ productId: PRODUCT, quantity: 1 }] }), paynowRefund({ orderId: earlier[0]!.orderId, refundedMinor: 500 })];
      await Promise.all([commit(db(), batchA), commit(db(), batchB)]);
      // 200 bought, 100 more, and the first order refunded in full.
      expect([await walletPoints(db(), u1), await walletPoints(db(), u2)]).toEqual([100, 100]);
    }
  });
});

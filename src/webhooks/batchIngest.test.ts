import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, describeEachEngine, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import {
  catalogue,
  eventRow,
  flakeId,
  makeSecrets,
  NOW,
  paynowOrder,
  paynowRefund,
  walletPoints,
  webhookConfig,
} from "../../test/support/webhookFixtures.js";
import type { Config } from "../config.js";
import { signPaynow } from "../providers/paynow/verifyPaynowSignature.js";
import { deliveryWriterFor } from "./deliveryWriterFor.js";
import { ingestDelivery } from "./ingestDelivery.js";

const PRODUCT = "458255405240287301";

function delivery(config: Config, payload: unknown) {
  const rawBody = Buffer.from(JSON.stringify(payload));
  const timestampMs = NOW.getTime();
  const signature = signPaynow(config.providers.paynowWebhookSecrets[0]!, timestampMs, rawBody);
  return { provider: "paynow" as const, rawBody, headers: { "paynow-signature": signature, "paynow-timestamp": String(timestampMs) } };
}

describeEachEngine("deliveries that arrive together are stored and applied as one batch", (db) => {
  let config: Config;
  beforeAll(async () => {
    config = webhookConfig(makeSecrets());
    await catalogue(db(), "paynow", PRODUCT, 50);
  });

  it("gives each delivery of a batch the answer it would get alone, and credits each purchase once", async () => {
    const earlier = paynowOrder({ orderId: flakeId(), uid: "batch_a", lines: [{ productId: PRODUCT, quantity: 1 }] });
    expect(await ingestDelivery(db(), config, delivery(config, earlier), NOW)).toMatchObject({ outcome: "stored", duplicate: false, status: "processed" });

    const orderId = flakeId();
    const order = paynowOrder({ orderId, uid: "batch_b", lines: [{ productId: PRODUCT, quantity: 2 }] });
    const refundFirst = paynowRefund({ orderId, refundedMinor: 250 });
    const unknown = paynowOrder({ orderId: flakeId(), uid: "batch_a", lines: [{ productId: "not_in_catalogue", quantity: 1 }] });
    const noUser = paynowOrder({ orderId: flakeId(), uid: null, lines: [{ productId: PRODUCT, quantity: 1 }] });
    const second = paynowOrder({ orderId: flakeId(), uid: "batch_a", lines: [{ productId: PRODUCT, quantity: 3 }] });
    // All submitted in one turn of the event loop: one group commit.
    const answers = await Promise.all(
      [refundFirst, order, order, unknown, earlier, noUser, second].map((payload) => ingestDelivery(db(), config, delivery(config, payload), NOW)),
    );
    expect(answers.map((answer) => answer.outcome === "stored" && [answer.duplicate, answer.status])).toEqual([
      [false, "processed"],
      [false, "processed"],
      [true, "processed"],
      [false, "failed"],
      [true, "processed"],
      [false, "failed"],
      [false, "processed"],
    ]);
    expect(await walletPoints(db(), "batch_a")).toBe(50 + 150);
    // 100 credited, then 250 of the 500 paid refunded: half the points.
    expect(await walletPoints(db(), "batch_b")).toBe(100 - 50);
    expect(await eventRow(db(), "paynow", unknown.event_id)).toMatchObject({ status: "failed", failure_reason: "unknown_product", attempts: 1 });
    expect(await eventRow(db(), "paynow", noUser.event_id)).toMatchObject({ status: "failed", failure_reason: "unknown_user" });
    expect(await eventRow(db(), "paynow", order.event_id)).toMatchObject({ status: "processed", attempts: 1 });
    const entries = await db().kysely.selectFrom("ledger_entries").select(["uid", "kind", "amount"]).where("uid", "in", ["batch_a", "batch_b"]).orderBy("id").execute();
    expect(entries).toEqual([
      { uid: "batch_a", kind: "purchase", amount: 50 },
      { uid: "batch_b", kind: "purchase", amount: 100 },
      { uid: "batch_a", kind: "purchase", amount: 150 },
      { uid: "batch_b", kind: "reversal", amount: -50 },
    ]);
    expect(await invariantViolations(db())).toEqual([]);
  });
});

/** A PostgreSQL database with the product on sale, for the lock cases below. */
function postgresSuite(): { database: () => TestDatabase; config: () => Config } {
  let database: TestDatabase;
  let config: Config;
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    config = webhookConfig(makeSecrets());
    await catalogue(database.db, "paynow", PRODUCT, 50);
  });
  afterAll(async () => {
    await database.drop();
  });
  return { database: () => database, config: () => config };
}

const order = (uid: string) => paynowOrder({ orderId: flakeId(), uid, lines: [{ productId: PRODUCT, quantity: 1 }] });

/**
 * Credits `held` once, then runs `work` while another session holds `held`'s wallet row
 * locked; `work` releases it (`ROLLBACK`) when it wants the held batch to go on.
 */
async function whileWalletHeld(database: TestDatabase, config: Config, work: (locker: pg.Client) => Promise<void>): Promise<void> {
  await ingestDelivery(database.db, config, delivery(config, order("held")), NOW);
  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("SELECT points FROM wallets WHERE uid = 'held' FOR UPDATE");
    await work(locker);
  } finally {
    await locker.end();
  }
}

describe.runIf(ENGINES.includes("postgres"))("a batch stuck on a lock does not hold the deliveries after it [postgres]", () => {
  const suite = postgresSuite();

  it("commits a later delivery on a second batch while the first waits for a wallet lock", async () => {
    const [db, config] = [suite.database().db, suite.config()];
    await whileWalletHeld(suite.database(), config, async (locker) => {
      let heldSettled = false;
      const held = ingestDelivery(db, config, delivery(config, order("held")), NOW).finally(() => {
        heldSettled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const free = await Promise.race([
        ingestDelivery(db, config, delivery(config, order("free")), NOW),
        new Promise((_, reject) => setTimeout(() => reject(new Error("the later delivery waited behind the stuck batch")), 10_000)),
      ]);
      expect(free).toMatchObject({ outcome: "stored", duplicate: false, status: "processed" });
      expect(await walletPoints(db, "free")).toBe(50);
      expect(heldSettled).toBe(false);
      await locker.query("ROLLBACK");
      expect(await held).toMatchObject({ outcome: "stored", duplicate: false, status: "processed" });
      expect(await walletPoints(db, "held")).toBe(100);
    });
  });
});

describe.runIf(ENGINES.includes("postgres"))("a serve --workers worker commits one batch at a time [postgres]", () => {
  const suite = postgresSuite();

  it("holds a later delivery until the batch waiting for a wallet lock commits, then commits it", async () => {
    const [db, config] = [suite.database().db, suite.config()];
    // As `serveInWorker` sets it up, before the first delivery.
    deliveryWriterFor(db, { oneBatchAtATime: true });
    await whileWalletHeld(suite.database(), config, async (locker) => {
      const held = ingestDelivery(db, config, delivery(config, order("held")), NOW);
      await new Promise((resolve) => setTimeout(resolve, 50));
      let freeSettled = false;
      const free = ingestDelivery(db, config, delivery(config, order("free")), NOW).finally(() => {
        freeSettled = true;
      });
      // Far past the 15 ms after which the engine's own setting would start a second batch.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(freeSettled).toBe(false);
      expect(await walletPoints(db, "free")).toBeNull();
      await locker.query("ROLLBACK");
      expect(await held).toMatchObject({ outcome: "stored", duplicate: false, status: "processed" });
      expect(await free).toMatchObject({ outcome: "stored", duplicate: false, status: "processed" });
      expect(await walletPoints(db, "held")).toBe(100);
      expect(await walletPoints(db, "free")).toBe(50);
    });
  });
});

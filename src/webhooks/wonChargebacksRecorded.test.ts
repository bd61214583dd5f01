import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrateBefore } from "../../test/support/schemaHistory.js";
import { createTestDatabase, describeEachEngine, type TestDatabase } from "../../test/support/testDatabase.js";
import { flakeId, NOW, paynowRefund, sendPaynow, walletPoints, webhookHarness } from "../../test/support/webhookFixtures.js";
import { postEntry, type PostEntryInput } from "../ledger/postEntry.js";
import { migrate } from "../storage/migrate.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";

/** The migration that records won chargebacks applied before it. */
const WON_CHARGEBACKS_MIGRATION = 9;

async function post(db: Db, input: Omit<PostEntryInput, "source" | "now">): Promise<number> {
  const result = await withTransaction(db, (trx) => postEntry(trx, { ...input, source: "webhook", now: NOW }));
  if (result.outcome !== "posted") throw new Error(`legacy entry refused: ${result.outcome}`);
  return result.entry.id;
}

describeEachEngine("a won chargeback applied before won chargebacks were recorded still counts as won", (_db, engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrateAs: null });
  });
  afterAll(async () => {
    await database.drop();
  });

  /**
   * What the earlier version left for a purchase of 100 points for 100 cents whose chargeback
   * was won: the chargeback's reversal (`taken` points, the rest written off) with its record,
   * and the won chargeback's reinstatement with no record of its own.
   */
  async function legacyWonChargeback(uid: string, spent: number): Promise<string> {
    const db = database.db;
    const orderId = flakeId();
    const paymentId = flakeId();
    const purchaseRef = `paynow:order:${orderId}`;
    const chargebackKey = `paynow:chargeback:${paymentId}:ON_CHARGEBACK`;
    const purchase = await post(db, { uid, kind: "purchase", amount: 100, idempotencyKey: purchaseRef });
    if (spent > 0) await post(db, { uid, kind: "spend", amount: -spent, idempotencyKey: `spend:${orderId}` });
    const taken = 100 - spent;
    const reversal = await post(db, { uid, kind: "reversal", amount: -taken, idempotencyKey: chargebackKey, reversesEntryId: purchase });
    await post(db, { uid, kind: "reinstatement", amount: taken, idempotencyKey: `paynow:chargeback:${paymentId}:ON_CHARGEBACK_CLOSED`, reversesEntryId: reversal });
    await db.kysely.insertInto("webhook_purchases").values({ purchase_ref: purchaseRef, entry_id: purchase, uid, points: 100, paid_minor: 100, created_at: NOW.toISOString() }).execute();
    await sql`INSERT INTO webhook_reversals (reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at)
      VALUES (${chargebackKey}, ${purchaseRef}, 'chargeback', 0, 100, ${spent}, ${reversal}, ${NOW.toISOString()})`.execute(db.kysely);
    return orderId;
  }

  it("the migration records it from its reinstatement, so a later refund takes the refunded share, and what was written off is no longer owed", async () => {
    const db = database.db;
    await migrateBefore(db, WON_CHARGEBACKS_MIGRATION, NOW.toISOString());
    const whole = await legacyWonChargeback("legacy_won", 0);
    // Under clamp, 70 spent: the chargeback took 30 and wrote 70 off; the win gave the 30 back.
    const clamped = await legacyWonChargeback("legacy_won_clamped", 70);

    // Later migrations may follow it; the won chargebacks' is the first one this database takes.
    const migrated = await migrate(db, "test");
    expect(migrated).toMatchObject({ outcome: "migrated" });
    expect((migrated as { applied: number[] }).applied[0]).toBe(WON_CHARGEBACKS_MIGRATION);
    const harness = await webhookHarness(db, { REVERSAL_POLICY: "clamp" });
    expect((await sendPaynow(harness, paynowRefund({ orderId: whole, refundedMinor: 40 }))).json().status).toBe("processed");
    expect((await sendPaynow(harness, paynowRefund({ orderId: clamped, refundedMinor: 40 }))).json().status).toBe("processed");
    // 40 of 100 cents refunded take 40 of 100 points; the chargebacks were won and take nothing.
    expect(await walletPoints(db, "legacy_won")).toBe(100 - (100 * 40) / 100);
    // The refund's 40 points meet a wallet of 30: 30 are taken, 10 written off.
    expect(await walletPoints(db, "legacy_won_clamped")).toBe(0);
  });
});

import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, describeEachEngine, type TestDatabase } from "../../test/support/testDatabase.js";
import { flakeId, NOW, paynowRefund, sendPaynow, walletPoints, webhookHarness } from "../../test/support/webhookFixtures.js";
import { postEntry, type PostEntryInput } from "../ledger/postEntry.js";
import { migrate, migrationsFor } from "../storage/migrate.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";

/** The migration that records won chargebacks applied before it. */
const WON_CHARGEBACKS_MIGRATION = 10;

/** Every migration before `id`, applied as `migrate` would, so data can be written in the old shape. */
async function migrateBefore(db: Db, id: number): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS reckon_schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`.execute(db.kysely);
  for (const script of migrationsFor(db).filter((candidate) => candidate.id < id)) {
    if (db.sqlite) db.sqlite.exec(script.sql);
    else await sql.raw(script.sql).execute(db.kysely);
    await sql`INSERT INTO reckon_schema_migrations (id, name, applied_at) VALUES (${script.id}, ${script.name}, ${NOW.toISOString()})`.execute(db.kysely);
  }
}

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

  it("the migration records it from its reinstatement, so a later refund takes only the refunded share", async () => {
    const db = database.db;
    await migrateBefore(db, WON_CHARGEBACKS_MIGRATION);
    // What the earlier version left: a purchase, its chargeback's reversal with its record,
    // and the won chargeback's reinstatement with no record of its own.
    const orderId = flakeId();
    const paymentId = flakeId();
    const purchaseRef = `paynow:order:${orderId}`;
    const chargebackKey = `paynow:chargeback:${paymentId}:ON_CHARGEBACK`;
    const purchase = await post(db, { uid: "legacy_won", kind: "purchase", amount: 100, idempotencyKey: purchaseRef });
    const reversal = await post(db, { uid: "legacy_won", kind: "reversal", amount: -100, idempotencyKey: chargebackKey, reversesEntryId: purchase });
    await post(db, { uid: "legacy_won", kind: "reinstatement", amount: 100, idempotencyKey: `paynow:chargeback:${paymentId}:ON_CHARGEBACK_CLOSED`, reversesEntryId: reversal });
    await db.kysely
      .insertInto("webhook_purchases")
      .values({ purchase_ref: purchaseRef, entry_id: purchase, uid: "legacy_won", points: 100, paid_minor: 100, created_at: NOW.toISOString() })
      .execute();
    await sql`INSERT INTO webhook_reversals (reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at)
      VALUES (${chargebackKey}, ${purchaseRef}, 'chargeback', 0, 100, 0, ${reversal}, ${NOW.toISOString()})`.execute(db.kysely);

    expect(await migrate(db, "test")).toMatchObject({ outcome: "migrated", applied: [WON_CHARGEBACKS_MIGRATION] });
    const harness = await webhookHarness(db);
    expect((await sendPaynow(harness, paynowRefund({ orderId, refundedMinor: 40 }))).json().status).toBe("processed");
    // 40 of 100 cents refunded take 40 of 100 points; the chargeback was won and takes nothing.
    expect(await walletPoints(db, "legacy_won")).toBe(100 - (100 * 40) / 100);
  });
});

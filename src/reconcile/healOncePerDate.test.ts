import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editWallet } from "../../test/support/editWallet.js";
import { postPurchase } from "../../test/support/postPurchase.js";
import { migrateBefore } from "../../test/support/schemaHistory.js";
import { createTestDatabase, describeEachEngine, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { migrate } from "../storage/migrate.js";
import type { Db } from "../storage/openDatabase.js";
import type { HealPolicy } from "./planHeal.js";
import { runReconciliation } from "./runReconciliation.js";

const NOW = new Date("2026-10-02T02:00:00.000Z");
const now = () => NOW;

async function reconcile(db: Db, date: string, policy: HealPolicy) {
  const result = await runReconciliation(db, { date, policy, chunkUsers: 10, mode: "start", now });
  if (result.outcome !== "completed") throw new Error(result.outcome);
  return result.run;
}

async function state(db: Db, uid: string, runId: number) {
  const wallet = await db.kysely.selectFrom("wallets").select("points").where("uid", "=", uid).executeTakeFirstOrThrow();
  const adjustments = await db.kysely.selectFrom("ledger_entries").select("amount").where("uid", "=", uid).where("kind", "=", "reconcile_adjustment").orderBy("id").execute();
  const line = await db.kysely.selectFrom("reconciliation_user_reports").select(["action", "delta"]).where("run_id", "=", runId).where("uid", "=", uid).executeTakeFirstOrThrow();
  return { points: wallet.points, adjustments: adjustments.map((entry) => entry.amount), line };
}

describeEachEngine("a user is healed at most once per date, whatever the heal policy", (db) => {
  it("after restore_wallet healed a user for a date, adjust_ledger on the same date heals nothing more", async () => {
    await postPurchase(db(), "restored_first", 50, NOW);
    await editWallet(db(), "restored_first", 8);
    await reconcile(db(), "2026-10-01", "restore_wallet");
    await editWallet(db(), "restored_first", 4);

    const again = await reconcile(db(), "2026-10-01", "adjust_ledger");

    expect(await state(db(), "restored_first", again.runId)).toEqual({ points: 54, adjustments: [], line: { action: "already_healed", delta: 4 } });
  });

  it("after adjust_ledger healed a user for a date, restore_wallet on the same date heals nothing more", async () => {
    await postPurchase(db(), "adjusted_first", 50, NOW);
    await editWallet(db(), "adjusted_first", 8);
    await reconcile(db(), "2026-09-30", "adjust_ledger");
    await editWallet(db(), "adjusted_first", -6);

    const again = await reconcile(db(), "2026-09-30", "restore_wallet");

    expect(await state(db(), "adjusted_first", again.runId)).toEqual({ points: 52, adjustments: [8], line: { action: "already_healed", delta: -6 } });
  });

  it("another date heals the drift that remained", async () => {
    const next = await reconcile(db(), "2026-10-02", "adjust_ledger");
    expect(await state(db(), "adjusted_first", next.runId)).toEqual({ points: 52, adjustments: [8, -6], line: { action: "adjusted", delta: -6 } });
  });
});

for (const engine of ENGINES) {
  describe(`heal claims made before the claims table existed still count [${engine}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(engine, { migrateAs: null });
    });
    afterAll(() => database.drop());

    it("migration 6 carries over the claims of adjust_ledger (ledger keys) and restore_wallet (idempotency records); a re-run heals neither", async () => {
      const db = database.db;
      await migrateBefore(db, 6, NOW.toISOString());
      const at = NOW.toISOString();
      for (const uid of ["legacy_adjusted", "legacy_restored"]) {
        await sql`INSERT INTO wallets (uid, points, version, created_at, updated_at) VALUES (${uid}, 13, 1, ${at}, ${at})`.execute(db.kysely);
        await sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
          VALUES (${uid}, 10, 'purchase', ${`legacy-${uid}`}, 10, 'test', 'legacy', ${at})`.execute(db.kysely);
      }
      // What the two policies left behind for 2026-05-01 before migration 6.
      await sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
        VALUES ('legacy_adjusted', 3, 'reconcile_adjustment', 'reconcile:2026-05-01:legacy_adjusted', 13, 'reconcile', 'legacy', ${at})`.execute(db.kysely);
      await sql`INSERT INTO idempotency_records (scope, key, request_hash, outcome, created_at)
        VALUES ('reconcile_heal', 'reconcile:2026-05-01:legacy_restored', '', 'restored', ${at})`.execute(db.kysely);

      expect(await migrate(db, "test")).toMatchObject({ outcome: "migrated", applied: expect.arrayContaining([6]) });
      const claims = await db.kysely.selectFrom("reconciliation_heals").select(["run_date", "uid", "action"]).orderBy("uid").execute();
      expect(claims).toEqual([
        { run_date: "2026-05-01", uid: "legacy_adjusted", action: "adjusted" },
        { run_date: "2026-05-01", uid: "legacy_restored", action: "restored" },
      ]);

      // New drifts on that date: the adjusted user drifts by 2, the restored one by 3 (wallet 13, ledger 10).
      await editWallet(db, "legacy_adjusted", 2);
      const rerun = await reconcile(db, "2026-05-01", "restore_wallet");
      expect(await state(db, "legacy_adjusted", rerun.runId)).toEqual({ points: 15, adjustments: [3], line: { action: "already_healed", delta: 2 } });
      const again = await reconcile(db, "2026-05-01", "adjust_ledger");
      expect(await state(db, "legacy_restored", again.runId)).toEqual({ points: 13, adjustments: [], line: { action: "already_healed", delta: 3 } });
    });
  });
}

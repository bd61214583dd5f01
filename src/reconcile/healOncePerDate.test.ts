import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { HealPolicy } from "./planHeal.js";
import { runReconciliation } from "./runReconciliation.js";

const NOW = new Date("2026-10-02T02:00:00.000Z");
const now = () => NOW;

async function purchase(db: Db, uid: string, amount: number): Promise<void> {
  const posted = await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey: `once-${uid}`, source: "test", now: NOW }));
  expect(posted.outcome).toBe("posted");
}

async function editWallet(db: Db, uid: string, by: number): Promise<void> {
  await sql`UPDATE wallets SET points = points + ${by} WHERE uid = ${uid}`.execute(db.kysely);
}

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
    await purchase(db(), "restored_first", 50);
    await editWallet(db(), "restored_first", 8);
    await reconcile(db(), "2026-10-01", "restore_wallet");
    await editWallet(db(), "restored_first", 4);

    const again = await reconcile(db(), "2026-10-01", "adjust_ledger");

    expect(await state(db(), "restored_first", again.runId)).toEqual({ points: 54, adjustments: [], line: { action: "already_healed", delta: 4 } });
  });

  it("after adjust_ledger healed a user for a date, restore_wallet on the same date heals nothing more", async () => {
    await purchase(db(), "adjusted_first", 50);
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

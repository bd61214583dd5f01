import { sql } from "kysely";
import { expect, it } from "vitest";
import { editWallet } from "../../test/support/editWallet.js";
import { metricSample } from "../../test/support/metricSample.js";
import { postPurchase } from "../../test/support/postPurchase.js";
import { reportLine } from "../../test/support/reportLine.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { scrapeMetrics } from "../ops/scrapeMetrics.js";
import type { Db } from "../storage/openDatabase.js";
import type { HealPolicy } from "./planHeal.js";
import { runReconciliation } from "./runReconciliation.js";
import { verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-08-02T02:00:00.000Z");
const now = () => NOW;

async function adjustmentsOf(db: Db, uid: string): Promise<number[]> {
  const rows = await db.kysely.selectFrom("ledger_entries").select("amount").where("uid", "=", uid).where("kind", "=", "reconcile_adjustment").execute();
  return rows.map((row) => row.amount);
}

function request(date: string, policy: HealPolicy = "adjust_ledger") {
  return { date, policy, chunkUsers: 3, mode: "start" as const, now };
}

/**
 * A trigger that refuses `uid`'s ledger entries stands for any write the ledger cannot
 * make (a constraint, a conflict): the class, not one cause. Answers how to drop it.
 */
async function refuseEntriesOf(db: Db, uid: string): Promise<() => Promise<void>> {
  const name = `refuse_${uid.replace(/[^a-z]/g, "_")}`;
  if (db.dialect === "postgres") {
    await sql`CREATE FUNCTION ${sql.raw(name)}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.uid = ${sql.lit(uid)} THEN RAISE EXCEPTION 'entries of % are refused', NEW.uid; END IF; RETURN NEW; END $$`.execute(db.kysely);
    await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ${sql.raw(name)}()`.execute(db.kysely);
  } else {
    await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ledger_entries WHEN NEW.uid = ${sql.lit(uid)}
      BEGIN SELECT RAISE(ABORT, 'entries are refused'); END`.execute(db.kysely);
  }
  return async () => {
    await sql`DROP TRIGGER ${sql.raw(name)}${sql.raw(db.dialect === "postgres" ? " ON ledger_entries" : "")}`.execute(db.kysely);
  };
}

describeEachEngine("a heal the ledger refuses is that user's refused line, never the run's failure", (db) => {
  it("a drift above the per-entry maximum is refused for its user while the +5 beside it is healed and the run completes", async () => {
    await postPurchase(db(), "huge", 100, NOW);
    await postPurchase(db(), "small", 100, NOW);
    await postPurchase(db(), "clean", 100, NOW);
    await editWallet(db(), "huge", 2e12);
    await editWallet(db(), "small", 5);

    const result = await runReconciliation(db(), request("2026-08-01"));

    expect(result.outcome).toBe("completed");
    if (result.outcome !== "completed") return;
    expect(result.run.status).toBe("completed");
    expect(await reportLine(db(), result.run.runId, "huge")).toMatchObject({
      wallet_points: 100 + 2e12, ledger_sum: 100, delta: 2e12, action: "refused", reason: "exceeds_entry_limit",
    });
    expect(await reportLine(db(), result.run.runId, "small")).toMatchObject({ delta: 5, action: "adjusted", reason: null });
    expect(await adjustmentsOf(db(), "small")).toEqual([5]);
    expect(await adjustmentsOf(db(), "huge")).toEqual([]);
    // Two users differed from their ledger; one of them could not be healed.
    expect(result.run).toMatchObject({ violations: 2, refused: 1, adjustmentAbsTotal: 5, usersChecked: 3 });
    expect(metricSample((await scrapeMetrics(db())).text, "reconciliation_refused_heals")).toBe(1);
    const verified = await verifyReports(db().kysely);
    expect(verified.problems).toEqual([]);
  });

  it("a heal the database itself rejects is refused for that user alone; the chunk's other heals commit", async () => {
    await postPurchase(db(), "poisoned", 10, NOW);
    await postPurchase(db(), "neighbour", 10, NOW);
    const allowPoisoned = await refuseEntriesOf(db(), "poisoned");
    await editWallet(db(), "poisoned", 7);
    await editWallet(db(), "neighbour", -3);

    const result = await runReconciliation(db(), request("2026-07-31"));

    expect(result.outcome).toBe("completed");
    if (result.outcome !== "completed") return;
    expect(await reportLine(db(), result.run.runId, "poisoned")).toMatchObject({ delta: 7, action: "refused", reason: "heal_failed" });
    expect(await reportLine(db(), result.run.runId, "neighbour")).toMatchObject({ delta: -3, action: "adjusted" });
    expect(await adjustmentsOf(db(), "neighbour")).toEqual([-3]);
    expect(await adjustmentsOf(db(), "poisoned")).toEqual([]);
    // The first test's user is still refused: nobody fixed that wallet.
    expect(result.run.refused).toBe(2);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
    await allowPoisoned();
  });

  it("a refused user is tried again on the next run of the date, and healed once the cause is gone", async () => {
    const result = await runReconciliation(db(), request("2026-07-31"));
    if (result.outcome !== "completed") throw new Error(result.outcome);
    expect(await reportLine(db(), result.run.runId, "poisoned")).toMatchObject({ delta: 7, action: "adjusted" });
    expect(await adjustmentsOf(db(), "poisoned")).toEqual([7]);
  });
});

describeEachEngine("adjust_ledger heals written together still keep each user's fate their own", (db) => {
  it("one of three heals in a chunk rejected by the database is that user's heal_failed line; the two beside it are adjusted", async () => {
    for (const uid of ["batch-a", "batch-b", "batch-c"]) await postPurchase(db(), uid, 10, NOW);
    await refuseEntriesOf(db(), "batch-b");
    await editWallet(db(), "batch-a", 4);
    await editWallet(db(), "batch-b", -6);
    await editWallet(db(), "batch-c", 9);

    const result = await runReconciliation(db(), { ...request("2026-07-30"), chunkUsers: 10 });

    if (result.outcome !== "completed") throw new Error(result.outcome);
    expect(await reportLine(db(), result.run.runId, "batch-a")).toMatchObject({ delta: 4, action: "adjusted" });
    expect(await reportLine(db(), result.run.runId, "batch-b")).toMatchObject({ delta: -6, action: "refused", reason: "heal_failed" });
    expect(await reportLine(db(), result.run.runId, "batch-c")).toMatchObject({ delta: 9, action: "adjusted" });
    expect(await adjustmentsOf(db(), "batch-a")).toEqual([4]);
    expect(await adjustmentsOf(db(), "batch-b")).toEqual([]);
    expect(await adjustmentsOf(db(), "batch-c")).toEqual([9]);
    const claims = await db().kysely.selectFrom("reconciliation_heals").select("uid").where("run_date", "=", "2026-07-30").orderBy("uid").execute();
    expect(claims.map((claim) => claim.uid)).toEqual(["batch-a", "batch-c"]);
    expect(result.run).toMatchObject({ violations: 3, refused: 1, adjustmentAbsTotal: 13 });
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });
});

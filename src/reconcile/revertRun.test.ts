import { sql } from "kysely";
import { expect, it } from "vitest";
import { editWallet } from "../../test/support/editWallet.js";
import { postPurchase } from "../../test/support/postPurchase.js";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { loadConfig } from "../config.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { revertRun } from "./revertRun.js";
import { runReconciliation } from "./runReconciliation.js";
import { scheduleReconciliation } from "./scheduleReconciliation.js";

const NOW = new Date("2026-06-02T02:00:00.000Z");
const now = () => NOW;

describeEachEngine("reverting a run and the scheduled job", (db) => {
  it("revert cancels every adjustment of the run with new entries, once", async () => {
    for (const uid of ["r1", "r2", "r3"]) await postPurchase(db(), uid, 30, NOW);
    await editWallet(db(), "r1", 4);
    await editWallet(db(), "r3", -9);
    await runReconciliation(db(), { date: "2026-06-01", policy: "adjust_ledger", chunkUsers: 2, mode: "start", now });
    expect(await invariantViolations(db())).toEqual([]);
    const entriesBefore = await db().kysely.selectFrom("ledger_entries").select("id").execute();

    const reverted = await revertRun(db(), { date: "2026-06-01", actor: "test", now });
    expect(reverted).toMatchObject({ outcome: "reverted", reverted: 2, alreadyReverted: 0 });
    const entriesAfter = await db().kysely.selectFrom("ledger_entries").select("id").execute();
    expect(entriesAfter.length).toBe(entriesBefore.length + 2);
    expect((await invariantViolations(db())).sort((a, b) => a.uid.localeCompare(b.uid))).toEqual([
      { uid: "r1", points: 34, sum: 30 },
      { uid: "r3", points: 21, sum: 30 },
    ]);
    expect(await revertRun(db(), { date: "2026-06-01", actor: "test", now })).toMatchObject({ reverted: 0, alreadyReverted: 2 });
    expect(await revertRun(db(), { date: "2026-05-01", actor: "test", now })).toEqual({ outcome: "run_not_found" });
  });

  it("of two scheduled instances ticking for the same day, exactly one runs", async () => {
    const config = loadConfig({});
    const first = scheduleReconciliation(db(), config, { now });
    const second = scheduleReconciliation(db(), config, { now });
    try {
      const ticks = await Promise.all([first.tick(), second.tick()]);
      const ran = ticks.filter((tick) => tick !== "lease_held_elsewhere");
      expect(ran).toHaveLength(1);
      expect(ticks).toContain("lease_held_elsewhere");
      const runs = await db().kysely.selectFrom("reconciliation_runs").select("status").where("run_date", "=", "2026-06-02").execute();
      expect(runs).toEqual([{ status: "completed" }]);
    } finally {
      first.stop();
      second.stop();
    }
  });
});

describeEachEngine("reverting a restore_wallet run", (db) => {
  it("revert moves each wallet a restore_wallet run restored back by its drift, once, audited", async () => {
    for (const uid of ["w1", "w2"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 50, idempotencyKey: `w-${uid}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points + 7 WHERE uid = 'w1'`.execute(db().kysely);
    await runReconciliation(db(), { date: "2026-06-01", policy: "restore_wallet", chunkUsers: 2, mode: "start", now });
    expect(await invariantViolations(db())).toEqual([]);

    const reverted = await revertRun(db(), { date: "2026-06-01", actor: "test", now });
    expect(reverted).toMatchObject({ outcome: "reverted", reverted: 1, alreadyReverted: 0, entryIds: [] });
    expect(await invariantViolations(db())).toEqual([{ uid: "w1", points: 57, sum: 50 }]);
    expect(await revertRun(db(), { date: "2026-06-01", actor: "test", now })).toMatchObject({ reverted: 0, alreadyReverted: 1 });
    expect(await invariantViolations(db())).toEqual([{ uid: "w1", points: 57, sum: 50 }]);
    const audits = await db().kysely.selectFrom("audit_log").select(["subject", "details"]).where("action", "=", "wallet.restore_revert").execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.subject).toBe("w1");
  });
});

describeEachEngine("a revert the ledger refuses", (db) => {
  it("lists the line with its reason, moves nothing of it, reverts the others, and can be tried again", async () => {
    const limit = 10 ** 15;
    for (const uid of ["big", "small"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 10, idempotencyKey: `b-${uid}`, source: "test", now: NOW }));
    }
    // Drift of limit - 20 on "big": the heal brings it back to its ledger sum (10).
    await sql`UPDATE wallets SET points = ${limit - 10} WHERE uid = 'big'`.execute(db().kysely);
    await sql`UPDATE wallets SET points = points + 3 WHERE uid = 'small'`.execute(db().kysely);
    await runReconciliation(db(), { date: "2026-06-01", policy: "restore_wallet", chunkUsers: 2, mode: "start", now });
    expect(await invariantViolations(db())).toEqual([]);
    // "big" earns 30 more; moving it back by its drift would now take it to limit + 20.
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "big", kind: "purchase", amount: 30, idempotencyKey: "b-more", source: "test", now: NOW }));
    const bigBefore = await db().kysely.selectFrom("wallets").select(["points", "version"]).where("uid", "=", "big").executeTakeFirstOrThrow();

    const first = await revertRun(db(), { date: "2026-06-01", actor: "test", now });
    expect(first).toMatchObject({ outcome: "reverted", reverted: 1, alreadyReverted: 0, refused: [{ uid: "big", reason: "out_of_range" }] });
    expect(await db().kysely.selectFrom("wallets").select(["points", "version"]).where("uid", "=", "big").executeTakeFirstOrThrow()).toEqual(bigBefore);
    const audits = await db().kysely.selectFrom("audit_log").select("subject").where("action", "=", "wallet.restore_revert").execute();
    expect(audits.map((audit) => audit.subject)).toEqual(["small"]);

    // Once "big" has room again, the same revert moves it back: its key was never claimed.
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "big", kind: "spend", amount: -30, idempotencyKey: "b-spend", source: "test", now: NOW }));
    const second = await revertRun(db(), { date: "2026-06-01", actor: "test", now });
    expect(second).toMatchObject({ reverted: 1, alreadyReverted: 1, refused: [] });
    expect(await db().kysely.selectFrom("wallets").select("points").where("uid", "=", "big").executeTakeFirstOrThrow()).toEqual({ points: limit - 10 });
  });
});

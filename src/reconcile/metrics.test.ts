import { expect, it } from "vitest";
import { editWallet } from "../../test/support/editWallet.js";
import { metricValue } from "../../test/support/metricValue.js";
import { postPurchase } from "../../test/support/postPurchase.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { registry } from "../ops/metrics.js";
import { runReconciliation } from "./runReconciliation.js";

const NOW = new Date("2026-07-01T02:00:00.000Z");

describeEachEngine("reconciliation metrics", (db) => {
  it("publish the last completed run's violations, adjusted points, users and time", async () => {
    for (const uid of ["m1", "m2", "m3"]) await postPurchase(db(), uid, 10, NOW);
    await editWallet(db(), "m1", 6);
    await editWallet(db(), "m3", -2);
    await runReconciliation(db(), { date: "2026-06-30", policy: "adjust_ledger", chunkUsers: 2, mode: "start", now: () => NOW });
    const text = await registry.metrics();
    expect(metricValue(text, "wallet_invariant_violations")).toBe(2);
    expect(metricValue(text, "reconciliation_adjustment_amount")).toBe(8);
    expect(metricValue(text, "reconciliation_users_checked")).toBe(3);
    expect(metricValue(text, "reconciliation_last_success_timestamp_seconds")).toBe(NOW.getTime() / 1000);
    expect(metricValue(text, "reconciliation_run_duration_seconds")).toBe(0);
  });
});

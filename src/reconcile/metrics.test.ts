import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { scrapeMetrics } from "../ops/scrapeMetrics.js";
import { withTransaction } from "../storage/withTransaction.js";
import { runReconciliation } from "./runReconciliation.js";

const NOW = new Date("2026-07-01T02:00:00.000Z");

function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((row) => row.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(" ")[1]);
}

describeEachEngine("reconciliation metrics", (db) => {
  it("publish the last completed run's violations, adjusted points, users and time", async () => {
    for (const uid of ["m1", "m2", "m3"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 10, idempotencyKey: `m-${uid}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points + 6 WHERE uid = 'm1'`.execute(db().kysely);
    await sql`UPDATE wallets SET points = points - 2 WHERE uid = 'm3'`.execute(db().kysely);
    await runReconciliation(db(), { date: "2026-06-30", policy: "adjust_ledger", chunkUsers: 2, mode: "start", now: () => NOW });
    const text = (await scrapeMetrics(db())).text;
    expect(metricValue(text, "wallet_invariant_violations")).toBe(2);
    expect(metricValue(text, "reconciliation_adjustment_amount")).toBe(8);
    expect(metricValue(text, "reconciliation_users_checked")).toBe(3);
    expect(metricValue(text, "reconciliation_last_success_timestamp_seconds")).toBe(NOW.getTime() / 1000);
    expect(metricValue(text, "reconciliation_run_duration_seconds")).toBe(0);
  });
});

import { beforeAll, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../../../test/support/testApp.js";
import { describeEachEngine, tableCounts } from "../../../test/support/testDatabase.js";
import { postEntries } from "../../ledger/postEntries.js";
import { postEntry } from "../../ledger/postEntry.js";
import { withTransaction } from "../../storage/withTransaction.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

describeEachEngine("admin routes", (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(db());
  });

  it("refuses to reverse a reconciliation heal with 409 entry_not_reversible, changing nothing", async () => {
    const heal = await withTransaction(db(), async (trx) => {
      await postEntry(trx, { uid: "healed", kind: "purchase", amount: 100, idempotencyKey: "healed-buy", source: "test", now: NOW });
      // The wallet shows 100, the ledger 100 + 40: the heal explains a drift, it does not move the wallet.
      return postEntry(trx, { uid: "healed", kind: "reconcile_adjustment", amount: 40, idempotencyKey: "reconcile:2026-02-28:healed", source: "reconcile", now: NOW });
    });
    if (heal.outcome !== "posted") throw new Error(heal.outcome);
    const before = await tableCounts(db());
    const response = await t.app.inject({
      method: "POST",
      url: `/api/admin/entries/${heal.entry.id}/reverse`,
      headers: { ...t.as.admin, "idempotency-key": "undo-heal" },
      payload: { reason: "looks wrong" },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: "entry_not_reversible", kind: "reconcile_adjustment" });
    expect(response.json().error.message).toMatch(/reckon reconcile revert/);
    const { idempotency_records: recordsBefore, ...restBefore } = before;
    const { idempotency_records: recordsAfter, ...restAfter } = await tableCounts(db());
    expect(restAfter).toEqual(restBefore);
    // The refusal is remembered under its key like any other answer.
    expect(recordsAfter).toBe((recordsBefore ?? 0) + 1);
  });

  it("refuses an adjustment that would take a wallet past 10^15 points with 409 balance_out_of_range, changing nothing", async () => {
    const BIG = 10 ** 12;
    await withTransaction(db(), (trx) =>
      postEntries(trx, Array.from({ length: 1000 }, (_, index) => ({ uid: "full", kind: "purchase" as const, amount: BIG, idempotencyKey: `full-${index}`, source: "test", now: NOW }))),
    );
    const adjust = (key: string, amount: number) =>
      t.app.inject({
        method: "POST",
        url: "/api/admin/wallets/full/adjustments",
        headers: { ...t.as.admin, "idempotency-key": key },
        payload: { amount, reason: "goodwill" },
      });
    const { idempotency_records: _records, ...before } = await tableCounts(db());
    const refused = await adjust("full-plus-1", 1);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: "balance_out_of_range", limit: 10 ** 15 });
    const { idempotency_records: _after, ...after } = await tableCounts(db());
    expect(after).toEqual(before);
    const down = await adjust("full-minus-1", -1);
    expect(down.statusCode).toBe(201);
    expect(down.json().wallet.points).toBe(1000 * BIG - 1);
  });
});


import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { catalogue, eventRow, flakeId, NOW, paynowOrder, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { postEntries } from "../ledger/postEntries.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { applyStoredEvent } from "./applyStoredEvent.js";

const BIG = 10 ** 12;

describeEachEngine("a credit beyond the exact range", (db) => {
  const harness = useWebhookHarness(db);

  it("is stored as failed balance_out_of_range, credits nothing, and applies once replayed when there is room", async () => {
    await catalogue(db(), "paynow", "vault", BIG);
    // 999 × 10^12 + 1 points: one more 10^12 credit would end 1 point past 10^15.
    await withTransaction(db(), (trx) =>
      postEntries(trx, [
        ...Array.from({ length: 999 }, (_, index) => ({ uid: "whale", kind: "purchase" as const, amount: BIG, idempotencyKey: `whale-${index}`, source: "test", now: NOW })),
        { uid: "whale", kind: "purchase", amount: 1, idempotencyKey: "whale-one", source: "test", now: NOW },
      ]),
    );
    const order = paynowOrder({ orderId: flakeId(), uid: "whale", lines: [{ productId: "vault", quantity: 1 }] });
    const response = await sendPaynow(harness, order);
    expect(response.statusCode).toBe(200);
    expect(await eventRow(db(), "paynow", order.event_id)).toMatchObject({ status: "failed", failure_reason: "balance_out_of_range" });
    expect(await walletPoints(db(), "whale")).toBe(999 * BIG + 1);

    const spent = await withTransaction(db(), (trx) =>
      postEntry(trx, { uid: "whale", kind: "spend", amount: -1, idempotencyKey: "whale-spend", source: "test", now: NOW }),
    );
    expect(spent.outcome).toBe("posted");
    const replayed = await withTransaction(db(), async (trx) => {
      const row = await trx.selectFrom("webhook_events").selectAll().where("event_id", "=", order.event_id).executeTakeFirstOrThrow();
      return applyStoredEvent(trx, row, { now: NOW, reversalPolicy: "allow_negative" });
    });
    expect(replayed.status).toBe("processed");
    expect(await walletPoints(db(), "whale")).toBe(10 ** 15);
  });

  it("a purchase by a user whose wallet is below zero is credited, not failed", async () => {
    await catalogue(db(), "paynow", "coins_30", 30);
    const post = (input: { kind: "purchase" | "spend" | "reversal"; amount: number; key: string; reverses?: number }) =>
      withTransaction(db(), (trx) =>
        postEntry(trx, { uid: "debtor", kind: input.kind, amount: input.amount, idempotencyKey: input.key, reversesEntryId: input.reverses ?? null, source: "test", now: NOW }),
      );
    const bought = await post({ kind: "purchase", amount: 50, key: "debtor-buy" });
    if (bought.outcome !== "posted") throw new Error(bought.outcome);
    await post({ kind: "spend", amount: -50, key: "debtor-spend" });
    // Refunded after the points were spent: the wallet goes to -50 under allow_negative.
    await post({ kind: "reversal", amount: -50, key: "debtor-refund", reverses: bought.entry.id });
    const order = paynowOrder({ orderId: flakeId(), uid: "debtor", lines: [{ productId: "coins_30", quantity: 1 }] });
    expect((await sendPaynow(harness, order)).json().status).toBe("processed");
    expect(await walletPoints(db(), "debtor")).toBe(50 - 50 - 50 + 30);
  });
});


import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntry } from "./postEntry.js";
import { restoreWallet } from "./restoreWallet.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

describeEachEngine("restoreWallet", (db) => {
  it("refuses to set a wallet beyond ±10^15 points as out_of_range, leaving it unchanged; the bound itself is allowed", async () => {
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "restored", kind: "purchase", amount: 9, idempotencyKey: "restored-buy", source: "test", now: NOW }));
    const restore = (points: number, expectedWalletVersion: number) =>
      withTransaction(db(), (trx) => restoreWallet(trx, { uid: "restored", points, expectedWalletVersion, now: NOW }));
    expect(await restore(10 ** 15 + 1, 1)).toEqual({ outcome: "out_of_range", limit: 10 ** 15 });
    expect(await restore(-(10 ** 15) - 1, 1)).toEqual({ outcome: "out_of_range", limit: 10 ** 15 });
    expect(await restore(2 ** 53 + 2, 1)).toEqual({ outcome: "out_of_range", limit: 10 ** 15 });
    const wallet = await db().kysely.selectFrom("wallets").select(["points", "version"]).where("uid", "=", "restored").executeTakeFirstOrThrow();
    expect(wallet).toEqual({ points: 9, version: 1 });
    expect(await restore(-(10 ** 15), 1)).toMatchObject({ outcome: "restored", wallet: { points: -(10 ** 15), version: 2 } });
  });
});

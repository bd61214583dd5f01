import { expect } from "vitest";
import { postEntry } from "../../src/ledger/postEntry.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { withTransaction } from "../../src/storage/withTransaction.js";

/** Posts a purchase of `amount` points to `uid` through the ledger and checks it was posted, not replayed or refused. */
export async function postPurchase(db: Db, uid: string, amount: number, now: Date, idempotencyKey = `purchase-${uid}`): Promise<void> {
  const posted = await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey, source: "test", now }));
  expect(posted.outcome).toBe("posted");
}

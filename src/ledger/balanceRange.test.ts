import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntries } from "./postEntries.js";
import { postEntry, type PostEntryInput } from "./postEntry.js";
import type { EntryKind } from "./types.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
/** The documented bound (docs/decisions/integers-and-timestamps.md), written out independently of the code. */
const BOUND = 10n ** 15n;
const BIG = 1_000_000_000_000;

/** Brings a user to exactly `count` × 10^12 points with one batch of the largest entries. */
async function fill(db: Db, uid: string, kind: EntryKind, count: number): Promise<void> {
  const inputs = Array.from({ length: count }, (_, index) => ({ uid, kind, amount: BIG, idempotencyKey: `${uid}-fill-${index}`, source: "test", now: NOW }));
  const outcomes = await withTransaction(db, (trx) => postEntries(trx, inputs));
  expect(outcomes.every((outcome) => outcome.outcome === "posted")).toBe(true);
}

/** The wallet and the sum of the user's entries, read exactly as text. */
async function exactState(db: Db, uid: string): Promise<{ wallet: bigint; sum: bigint }> {
  const wallet = await sql<{ points: string }>`SELECT CAST(points AS TEXT) AS points FROM wallets WHERE uid = ${uid}`.execute(db.kysely);
  const sum = await sql<{ total: string }>`SELECT CAST(COALESCE(SUM(amount), 0) AS TEXT) AS total FROM ledger_entries WHERE uid = ${uid}`.execute(db.kysely);
  return { wallet: BigInt(wallet.rows[0]!.points), sum: BigInt(sum.rows[0]!.total) };
}

describeEachEngine("balances stay inside the exact range", (db) => {
  const post = (input: Omit<PostEntryInput, "source" | "now">) => withTransaction(db(), (trx) => postEntry(trx, { ...input, source: "test", now: NOW }));

  it("refuses the credit that would take a wallet past 10^15 points, writing nothing; the bound itself is allowed", async () => {
    await fill(db(), "range_top", "purchase", 999);
    expect(await post({ uid: "range_top", kind: "purchase", amount: BIG - 1, idempotencyKey: "range-top-1" })).toMatchObject({ outcome: "posted" });
    expect(await post({ uid: "range_top", kind: "purchase", amount: 1, idempotencyKey: "range-top-2" })).toMatchObject({ outcome: "posted" });
    expect(await exactState(db(), "range_top")).toEqual({ wallet: BOUND, sum: BOUND });
    const before = await tableCounts(db());
    expect(await post({ uid: "range_top", kind: "purchase", amount: 1, idempotencyKey: "range-top-3" })).toEqual({ outcome: "out_of_range", limit: Number(BOUND) });
    expect(await post({ uid: "range_top", kind: "admin_adjustment", amount: BIG, idempotencyKey: "range-top-4" })).toEqual({ outcome: "out_of_range", limit: Number(BOUND) });
    expect(await tableCounts(db())).toEqual(before);
    expect(await exactState(db(), "range_top")).toEqual({ wallet: BOUND, sum: BOUND });
  });

  it("refuses an entry that would take the sum of a user's entries past 10^15 even while the wallet stays inside", async () => {
    // Heals record a drift without moving the wallet: the sum can move while the wallet does not.
    await fill(db(), "range_sum", "reconcile_adjustment", 1000);
    const before = await tableCounts(db());
    expect(await post({ uid: "range_sum", kind: "reconcile_adjustment", amount: 1, idempotencyKey: "range-sum-1" })).toEqual({ outcome: "out_of_range", limit: Number(BOUND) });
    expect(await post({ uid: "range_sum", kind: "purchase", amount: 1, idempotencyKey: "range-sum-2" })).toEqual({ outcome: "out_of_range", limit: Number(BOUND) });
    expect(await tableCounts(db())).toEqual(before);
    expect(await exactState(db(), "range_sum")).toEqual({ wallet: 0n, sum: BOUND });
    // Coming back towards zero is always allowed.
    expect(await post({ uid: "range_sum", kind: "reconcile_adjustment", amount: -5, idempotencyKey: "range-sum-3" })).toMatchObject({ outcome: "posted" });
  });

  it("gives a batch the same refusal, entry by entry, as one post after another", async () => {
    await fill(db(), "range_batch", "purchase", 999);
    const inputs = [BIG - 1, 1, 1, 2].map((amount, index) => ({
      uid: "range_batch",
      kind: "purchase" as const,
      amount,
      idempotencyKey: `range-batch-${index}`,
      source: "test",
      now: NOW,
    }));
    const outcomes = await withTransaction(db(), (trx) => postEntries(trx, inputs));
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(["posted", "posted", "out_of_range", "out_of_range"]);
    expect(await exactState(db(), "range_batch")).toEqual({ wallet: BOUND, sum: BOUND });
  });
});

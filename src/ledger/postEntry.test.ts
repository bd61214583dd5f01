import { beforeEach, expect, it } from "vitest";
import { describeEachEngine, invariantViolations, tableCounts } from "../../test/support/testDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { postEntry, type PostEntryInput, type PostEntryOutcome } from "./postEntry.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
let sequence = 0;

describeEachEngine("postEntry", (db) => {
  let uid: string;
  beforeEach(() => {
    sequence++;
    uid = `user_${sequence}`;
  });

  const post = (input: Partial<PostEntryInput> & Pick<PostEntryInput, "kind" | "amount" | "idempotencyKey">) =>
    withTransaction(db(), (trx) => postEntry(trx, { uid, source: "test", now: NOW, ...input }));

  const posted = (outcome: PostEntryOutcome) => {
    if (outcome.outcome !== "posted") throw new Error(`expected posted, got ${JSON.stringify(outcome)}`);
    return outcome;
  };

  it("writes the entry and moves the wallet in one step, recording the balance after", async () => {
    const first = posted(await post({ kind: "purchase", amount: 120, idempotencyKey: `k-${uid}-1` }));
    const second = posted(await post({ kind: "spend", amount: -20, idempotencyKey: `k-${uid}-2` }));
    expect(first.entry.balanceAfter).toBe(120);
    expect(second.entry.balanceAfter).toBe(100);
    expect(second.wallet).toMatchObject({ uid, points: 100, version: 2 });
    const wallet = await db().kysely.selectFrom("wallets").selectAll().where("uid", "=", uid).executeTakeFirstOrThrow();
    expect(wallet.points).toBe(100);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("answers a replayed key with the same content as a duplicate and changes nothing", async () => {
    const first = posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `dup-${uid}` }));
    const before = await tableCounts(db());
    const again = await post({ kind: "purchase", amount: 50, idempotencyKey: `dup-${uid}`, source: "backfill" });
    expect(again).toMatchObject({ outcome: "duplicate", entry: { id: first.entry.id }, wallet: { points: 50 } });
    expect(await tableCounts(db())).toEqual(before);
  });

  it("answers a replayed key with different content as a conflict and changes nothing", async () => {
    posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `conf-${uid}` }));
    const before = await tableCounts(db());
    const other = await post({ kind: "purchase", amount: 51, idempotencyKey: `conf-${uid}` });
    expect(other).toMatchObject({ outcome: "conflict", existing: { amount: 50 } });
    const otherUser = await post({ uid: `${uid}_b`, kind: "purchase", amount: 50, idempotencyKey: `conf-${uid}` });
    expect(otherUser.outcome).toBe("conflict");
    expect(await tableCounts(db())).toEqual(before);
  });

  it("never lets a spend take the wallet below zero, and writes nothing when it refuses", async () => {
    posted(await post({ kind: "purchase", amount: 10, idempotencyKey: `s-${uid}-1` }));
    const before = await tableCounts(db());
    expect(await post({ kind: "spend", amount: -11, idempotencyKey: `s-${uid}-2` })).toEqual({
      outcome: "insufficient_points",
      available: 10,
    });
    expect(await post({ uid: `${uid}_new`, kind: "spend", amount: -1, idempotencyKey: `s-${uid}-3` })).toEqual({
      outcome: "insufficient_points",
      available: 0,
    });
    expect(await tableCounts(db())).toEqual(before);
    posted(await post({ kind: "spend", amount: -10, idempotencyKey: `s-${uid}-4` }));
  });

  it("reverses an entry by reference and never more than it", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 100, idempotencyKey: `r-${uid}-p` }));
    const reverse = (amount: number, key: string) =>
      post({ kind: "reversal", amount, idempotencyKey: key, reversesEntryId: purchase.entry.id });
    posted(await reverse(-30, `r-${uid}-1`));
    posted(await reverse(-60, `r-${uid}-2`));
    expect(await reverse(-11, `r-${uid}-3`)).toEqual({ outcome: "invalid_reversal", reason: "exceeds_original", remaining: 10 });
    expect(await reverse(5, `r-${uid}-4`)).toMatchObject({ outcome: "invalid_reversal", reason: "wrong_sign" });
    const last = posted(await reverse(-10, `r-${uid}-5`));
    expect(last.entry).toMatchObject({ reversesEntryId: purchase.entry.id, balanceAfter: 0 });
    expect(await reverse(-1, `r-${uid}-6`)).toMatchObject({ outcome: "invalid_reversal", remaining: 0 });
  });

  it("refuses to reverse another user's entry or one that does not exist", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 100, idempotencyKey: `o-${uid}-p` }));
    expect(
      await post({ uid: `${uid}_x`, kind: "reversal", amount: -1, idempotencyKey: `o-${uid}-1`, reversesEntryId: purchase.entry.id }),
    ).toMatchObject({ outcome: "invalid_reversal", reason: "wrong_user" });
    expect(
      await post({ kind: "reversal", amount: -1, idempotencyKey: `o-${uid}-2`, reversesEntryId: 987_654_321 }),
    ).toEqual({ outcome: "original_not_found", reversesEntryId: 987_654_321 });
  });

  it("lets a reversal of spent points take the wallet below zero and flags the user", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `n-${uid}-p` }));
    posted(await post({ kind: "spend", amount: -40, idempotencyKey: `n-${uid}-s` }));
    const reversal = posted(
      await post({ kind: "reversal", amount: -50, idempotencyKey: `n-${uid}-r`, reversesEntryId: purchase.entry.id }),
    );
    expect(reversal.wallet).toMatchObject({ points: -40, negativeFlagged: true });
    const reinstated = posted(
      await post({ kind: "reinstatement", amount: 50, idempotencyKey: `n-${uid}-w`, reversesEntryId: reversal.entry.id }),
    );
    expect(reinstated.wallet.points).toBe(10);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("credits a wallet that is below zero, whatever the policy, since a credit only raises it", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `neg-${uid}-p` }));
    posted(await post({ kind: "spend", amount: -50, idempotencyKey: `neg-${uid}-s` }));
    posted(await post({ kind: "reversal", amount: -50, reversesEntryId: purchase.entry.id, idempotencyKey: `neg-${uid}-r` }));
    let expected = 50 - 50 - 50;
    for (const [index, credit] of [
      { kind: "purchase" as const, amount: 20 },
      { kind: "admin_adjustment" as const, amount: 5, belowZero: "refuse" as const },
      { kind: "purchase" as const, amount: 7, belowZero: "clamp" as const },
    ].entries()) {
      const result = posted(await post({ ...credit, idempotencyKey: `neg-${uid}-c${index}` }));
      expected += credit.amount;
      expect(result.entry.amount).toBe(credit.amount);
      expect(result.shortfall).toBe(0);
      expect(result.wallet.points).toBe(expected);
    }
    expect(expected).toBe(-18);
  });

  it("clamps a reversal to what the wallet holds when asked, recording the shortfall", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `c-${uid}-p` }));
    posted(await post({ kind: "spend", amount: -45, idempotencyKey: `c-${uid}-s` }));
    const clamped = posted(
      await post({
        kind: "reversal",
        amount: -50,
        idempotencyKey: `c-${uid}-r`,
        reversesEntryId: purchase.entry.id,
        belowZero: "clamp",
      }),
    );
    expect(clamped).toMatchObject({ shortfall: 45, entry: { amount: -5 }, wallet: { points: 0 } });
  });

  it("never posts a zero entry: a clamped debit against a wallet with nothing left is refused, writing nothing", async () => {
    const purchase = posted(await post({ kind: "purchase", amount: 50, idempotencyKey: `z-${uid}-p` }));
    posted(await post({ kind: "spend", amount: -50, idempotencyKey: `z-${uid}-s` }));
    const before = await tableCounts(db());
    const reversal = { kind: "reversal" as const, amount: -50, reversesEntryId: purchase.entry.id, belowZero: "clamp" as const };
    expect(await post({ ...reversal, idempotencyKey: `z-${uid}-r` })).toEqual({ outcome: "insufficient_points", available: 0 });
    expect(await post({ kind: "spend", amount: -3, belowZero: "clamp", idempotencyKey: `z-${uid}-s2` })).toEqual({
      outcome: "insufficient_points",
      available: 0,
    });
    expect(await tableCounts(db())).toEqual(before);
  });

  it("records a reconcile adjustment without moving the wallet, and only on the version it read", async () => {
    posted(await post({ kind: "purchase", amount: 70, idempotencyKey: `a-${uid}-p` }));
    expect(
      await post({ kind: "reconcile_adjustment", amount: 5, idempotencyKey: `a-${uid}-stale`, expectedWalletVersion: 0 }),
    ).toMatchObject({ outcome: "stale_wallet", wallet: { version: 1 } });
    const adjustment = posted(
      await post({ kind: "reconcile_adjustment", amount: 5, idempotencyKey: `a-${uid}-1`, expectedWalletVersion: 1 }),
    );
    expect(adjustment.wallet).toMatchObject({ points: 70, version: 1 });
    expect(adjustment.entry.balanceAfter).toBe(70);
  });

  it("refuses a reversal of a reconciliation heal, which only reverting its run may undo, writing nothing", async () => {
    posted(await post({ kind: "purchase", amount: 70, idempotencyKey: `h-${uid}-p` }));
    const heal = posted(await post({ kind: "reconcile_adjustment", amount: 5, idempotencyKey: `h-${uid}-heal` }));
    const before = await tableCounts(db());
    expect(await post({ kind: "reversal", amount: -5, reversesEntryId: heal.entry.id, idempotencyKey: `h-${uid}-rev` })).toEqual({
      outcome: "invalid_reversal",
      reason: "not_reversible",
      remaining: 5,
    });
    expect(await tableCounts(db())).toEqual(before);
  });

  it("throws on an entry whose shape is a programming error, writing nothing", async () => {
    const before = await tableCounts(db());
    await expect(post({ kind: "purchase", amount: 0, idempotencyKey: `bad-${uid}-1` })).rejects.toThrow(/non-zero/);
    await expect(post({ kind: "purchase", amount: 1.5, idempotencyKey: `bad-${uid}-2` })).rejects.toThrow(/integer/);
    await expect(post({ kind: "spend", amount: 5, idempotencyKey: `bad-${uid}-3` })).rejects.toThrow(/negative/);
    await expect(post({ kind: "reversal", amount: -5, idempotencyKey: `bad-${uid}-4` })).rejects.toThrow(/reference/);
    await expect(post({ kind: "purchase", amount: 2 ** 53, idempotencyKey: `bad-${uid}-5` })).rejects.toThrow();
    expect(await tableCounts(db())).toEqual(before);
  });
});

import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations, tableCounts } from "../../test/support/testDatabase.js";
import type { IdempotentResult } from "../idempotency/runIdempotent.js";
import { withTransaction } from "../storage/withTransaction.js";
import { adjustWallet } from "./adjustWallet.js";
import { postEntry } from "./postEntry.js";
import { reverseEntry, type ReverseOutcome } from "./reverseEntry.js";
import { spendPoints } from "./spendPoints.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

type Operation =
  | { type: "purchase"; user: number; amount: number }
  | { type: "spend"; user: number; amount: number }
  | { type: "adjust"; user: number; amount: number }
  | { type: "reverse"; target: number; points: number | null };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ type: fc.constant("purchase" as const), user: fc.nat(3), amount: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ type: fc.constant("spend" as const), user: fc.nat(3), amount: fc.integer({ min: 1, max: 600 }) }),
  fc.record({
    type: fc.constant("adjust" as const),
    user: fc.nat(3),
    amount: fc.integer({ min: -300, max: 300 }).filter((amount) => amount !== 0),
  }),
  fc.record({
    type: fc.constant("reverse" as const),
    target: fc.nat(),
    points: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
  }),
);

let run = 0;

describeEachEngine("ledger invariant under random operations", (db) => {
  it("keeps wallet.points == sum(entries) for every user, and replaying any prefix changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 30 }), fc.nat(), async (operations, cut) => {
        run++;
        const posted: number[] = [];
        const targets = new Map<number, number | null>();
        /** Keeps the id of an entry a keyed call posted now, so a later reversal can pick it. */
        // A reversal's outcomes include a spend's and an adjustment's.
        const remember = (result: IdempotentResult<ReverseOutcome>) => {
          if (result.kind === "fresh" && result.outcome.outcome === "posted") posted.push(result.outcome.entry.id);
        };
        const apply = async (op: Operation, index: number) => {
          const key = `prop-${run}-${index}`;
          const uid = (user: number) => `prop_${run}_${user}`;
          /** What an admin's keyed call says besides its target. */
          const asAdmin = { reason: "property", actor: "test", idempotencyKey: key, now: NOW };
          switch (op.type) {
            case "purchase": {
              const result = await withTransaction(db(), (trx) =>
                postEntry(trx, { uid: uid(op.user), kind: "purchase", amount: op.amount, idempotencyKey: key, source: "test", now: NOW }),
              );
              if (result.outcome === "posted") posted.push(result.entry.id);
              return;
            }
            case "spend": {
              const result = await spendPoints(db(), { uid: uid(op.user), points: op.amount, idempotencyKey: key, now: NOW });
              remember(result);
              return;
            }
            case "adjust": {
              const result = await adjustWallet(db(), { uid: uid(op.user), amount: op.amount, ...asAdmin });
              remember(result);
              return;
            }
            case "reverse": {
              // The first pass picks the target; a replay reuses it, as a retrying client would.
              if (!targets.has(index)) {
                targets.set(index, posted.length === 0 ? null : posted[op.target % posted.length]!);
              }
              const entryId = targets.get(index);
              if (entryId === null || entryId === undefined) return;
              const result = await reverseEntry(db(), { entryId, ...(op.points === null ? {} : { points: op.points }), ...asAdmin });
              remember(result);
              return;
            }
          }
        };

        for (const [index, op] of operations.entries()) await apply(op, index);
        expect(await invariantViolations(db())).toEqual([]);

        const before = await tableCounts(db());
        const wallets = await db().kysely.selectFrom("wallets").selectAll().orderBy("uid").execute();
        const prefix = cut % (operations.length + 1);
        for (const [index, op] of operations.slice(0, prefix).entries()) await apply(op, index);
        expect(await tableCounts(db())).toEqual(before);
        expect(await db().kysely.selectFrom("wallets").selectAll().orderBy("uid").execute()).toEqual(wallets);
      }),
      { numRuns: 40 },
    );
  });
});

import fc from "fast-check";
import { expect, it } from "vitest";
import { measureTree, planReversal, type TreeEntry } from "./planReversal.js";

type Op = { type: "webhook"; points: number } | { type: "admin"; pick: number; percent: number };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant("webhook" as const), points: fc.integer({ min: -1_000, max: 1_000 }) }),
    fc.record({ type: fc.constant("admin" as const), pick: fc.nat(), percent: fc.integer({ min: 1, max: 100 }) }),
  ),
  { maxLength: 25 },
);

const PURCHASE_ID = 1;

/** Open amount of each entry: its own amount plus the amounts of the entries that reference it. */
function openAmounts(points: number, entries: readonly TreeEntry[]): Map<number, number> {
  const open = new Map<number, number>([[PURCHASE_ID, points]]);
  for (const entry of entries) open.set(entry.id, entry.amount);
  for (const entry of entries) open.set(entry.reversesEntryId, open.get(entry.reversesEntryId)! + entry.amount);
  return open;
}

it("a plan moves exactly the points asked, takes no entry past zero, and restores only webhook-side reversals", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000 }), ops, (points, operations) => {
      const entries: TreeEntry[] = [];
      // The side of each entry: webhook entries and admin entries below them; an admin's reversal of the purchase and what is below it is manual.
      const side = new Map<number, "purchase" | "webhook" | "manual">([[PURCHASE_ID, "purchase"]]);
      const post = (amount: number, source: string, reversesEntryId: number) => {
        const id = entries.length + 2;
        entries.push({ id, amount, source, reversesEntryId });
        const parent = side.get(reversesEntryId)!;
        side.set(id, source === "webhook" ? "webhook" : parent === "purchase" ? "manual" : parent);
      };
      for (const op of operations) {
        const open = openAmounts(points, entries);
        if (op.type === "admin") {
          const candidates = [...open.entries()].filter(([, amount]) => amount !== 0);
          const [id, amount] = candidates[op.pick % candidates.length]!;
          post(-Math.sign(amount) * Math.max(1, Math.floor((Math.abs(amount) * op.percent) / 100)), "admin", id);
          continue;
        }
        const tree = { purchaseEntryId: PURCHASE_ID, points, entries: [...entries] };
        const webhookReversed = entries.filter((entry) => side.get(entry.id) === "webhook").reduce((sum, entry) => sum - entry.amount, 0);
        const manualReversed = entries.filter((entry) => side.get(entry.id) === "manual").reduce((sum, entry) => sum - entry.amount, 0);
        expect(measureTree(tree)).toEqual({ webhookReversed, manualReversed });
        // Never more than the tree holds: what the purchase still has to reverse, what the webhook side holds to restore.
        const asked = op.points > 0 ? Math.min(op.points, points - webhookReversed - manualReversed) : Math.max(op.points, 0 - webhookReversed);
        const planned = planReversal(tree, asked);
        expect(planned.reduce((sum, entry) => sum - entry.amount, 0)).toBe(asked);
        for (const entry of planned) {
          const before = open.get(entry.reversesEntryId)!;
          expect(Math.sign(entry.amount)).toBe(-Math.sign(before));
          expect(Math.abs(entry.amount)).toBeLessThanOrEqual(Math.abs(before));
          expect(entry.kind).toBe(before > 0 ? "reversal" : "reinstatement");
          if (entry.kind === "reinstatement") expect(side.get(entry.reversesEntryId)).toBe("webhook");
          open.set(entry.reversesEntryId, before + entry.amount);
          post(entry.amount, "webhook", entry.reversesEntryId);
        }
      }
    }),
    { numRuns: 1_000 },
  );
});

import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import {
  catalogue,
  flakeId,
  paynowChargeback,
  paynowOrder,
  paynowRefund,
  sendPaynow,
  walletPoints,
  webhookHarness,
  type WebhookHarness,
} from "../../test/support/webhookFixtures.js";
import { reverseEntry } from "../ledger/reverseEntry.js";
import { spendPoints } from "../ledger/spendPoints.js";
import type { Db } from "../storage/openDatabase.js";

/** One purchase and what may happen to it; the arrival order is drawn separately. */
interface Scenario {
  points: number;
  paidMinor: number;
  refundsMinor: number[];
  chargeback: "none" | "open" | "won" | "lost";
  /** Deliveries sent again: which one (by index among the deliveries), and whether under a new event id. */
  redeliveries: { of: number; newEventId: boolean }[];
  admin: { action: "restore_reversal" | "reverse_purchase"; pick: number; size: number }[];
  spends: number[];
}

type Step =
  | { type: "purchase" }
  | { type: "refund"; index: number }
  | { type: "chargeback" }
  | { type: "close" }
  | { type: "redeliver"; of: number; newEventId: boolean }
  | { type: "admin"; index: number }
  | { type: "spend"; index: number };

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  points: fc.integer({ min: 1, max: 5_000 }),
  paidMinor: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 10_000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  refundsMinor: fc.array(fc.integer({ min: 1, max: 6_000 }), { maxLength: 4 }),
  chargeback: fc.constantFrom("none", "open", "won", "lost"),
  redeliveries: fc.array(fc.record({ of: fc.nat(), newEventId: fc.boolean() }), { maxLength: 3 }),
  admin: fc.array(
    fc.record({ action: fc.constantFrom("restore_reversal", "reverse_purchase"), pick: fc.nat(), size: fc.integer({ min: 1, max: 100 }) }),
    { maxLength: 3 },
  ),
  spends: fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 2 }),
});

function stepsOf(scenario: Scenario): Step[] {
  const steps: Step[] = [{ type: "purchase" }, ...scenario.refundsMinor.map((_, index): Step => ({ type: "refund", index }))];
  if (scenario.chargeback !== "none") steps.push({ type: "chargeback" });
  if (scenario.chargeback === "won" || scenario.chargeback === "lost") steps.push({ type: "close" });
  const deliveries = steps.length;
  for (const redelivery of scenario.redeliveries) steps.push({ type: "redeliver", of: redelivery.of % deliveries, newEventId: redelivery.newEventId });
  scenario.admin.forEach((_, index) => steps.push({ type: "admin", index }));
  scenario.spends.forEach((_, index) => steps.push({ type: "spend", index }));
  return steps;
}

const runArbitrary = scenarioArbitrary.chain((scenario) => {
  const steps = stepsOf(scenario);
  return fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }).map((order) => ({ scenario, order }));
});

/**
 * The rule, as plain arithmetic: with an open or lost chargeback everything is reversed;
 * otherwise the refunded share of the points, rounded down, of the money refunded in total.
 */
function modelTarget(points: number, paidMinor: number, refunded: number[], chargeback: "none" | "open" | "won" | "lost"): number {
  if (chargeback === "open" || chargeback === "lost") return points;
  if (refunded.length === 0) return 0;
  if (paidMinor === 0) return points;
  const total = refunded.reduce((sum, minor) => sum + minor, 0);
  return Math.floor((points * Math.min(total, paidMinor)) / paidMinor);
}

/** Entries of `uid` whose referencing entries took them past zero: must be none. */
async function capsBroken(db: Db, uid: string): Promise<{ id: number; amount: number; referenced: number }[]> {
  const rows = await db.kysely
    .selectFrom("ledger_entries as e")
    .leftJoin("ledger_entries as r", "r.reverses_entry_id", "e.id")
    .select((eb) => ["e.id", "e.amount", eb.fn.coalesce(eb.fn.sum<number>("r.amount"), eb.lit(0)).as("referenced")])
    .where("e.uid", "=", uid)
    .groupBy(["e.id", "e.amount"])
    .execute();
  return rows
    .map((row) => ({ id: row.id, amount: row.amount, referenced: Number(row.referenced) }))
    .filter((row) => row.amount * (row.amount + row.referenced) < 0);
}

let run = 0;

describeEachEngine("a purchase converges to what its refunds and chargeback ask for, in any arrival order", (db) => {
  let harness: WebhookHarness;
  beforeAll(async () => {
    harness = await webhookHarness(db());
  });

  it("the final balance equals the order-free expectation, the invariant holds and no reversal passes its original", async () => {
    await fc.assert(
      fc.asyncProperty(runArbitrary, async ({ scenario, order }) => {
        run++;
        const uid = `converge_${run}`;
        const product = `converge_product_${run}`;
        await catalogue(db(), "paynow", product, scenario.points);
        const orderId = flakeId();
        const paymentId = flakeId();
        const closeStatus = scenario.chargeback === "lost" ? "lost" : "won";
        const deliveries: Record<string, unknown>[] = [
          paynowOrder({ orderId, uid, lines: [{ productId: product, quantity: 1 }], totalMinor: scenario.paidMinor }),
          ...scenario.refundsMinor.map((refundedMinor) => paynowRefund({ orderId, refundedMinor })),
        ];
        if (scenario.chargeback !== "none") deliveries.push(paynowChargeback({ orderId, paymentId }));
        if (scenario.chargeback === "won" || scenario.chargeback === "lost") deliveries.push(paynowChargeback({ orderId, paymentId, closed: closeStatus }));
        const deliveryIndex = (step: Step): number | null => {
          switch (step.type) {
            case "purchase":
              return 0;
            case "refund":
              return 1 + step.index;
            case "chargeback":
              return 1 + scenario.refundsMinor.length;
            case "close":
              return 2 + scenario.refundsMinor.length;
            case "redeliver":
              return step.of;
            default:
              return null;
          }
        };

        // The model: what was delivered (by business key), what the webhook side and an
        // admin's own reversals of the purchase hold reversed, and what was spent.
        const P = scenario.points;
        let purchased = false;
        const seen = new Set<number>();
        let webhookReversed = 0;
        let manualReversed = 0;
        let spent = 0;
        let adminActed = false;
        const eventIds: string[] = [];
        const converge = () => {
          const refunded = scenario.refundsMinor.filter((_, index) => seen.has(1 + index));
          const chargebackSeen = seen.has(1 + scenario.refundsMinor.length);
          const closeSeen = seen.has(2 + scenario.refundsMinor.length);
          // A won close without its chargeback moves nothing; a lost close is ignored.
          const phase = !chargebackSeen ? "none" : closeSeen && closeStatus === "won" ? "won" : "open";
          webhookReversed = Math.max(0, Math.min(modelTarget(P, scenario.paidMinor, refunded, phase), P - manualReversed));
        };

        for (const step of order) {
          const index = deliveryIndex(step);
          if (index !== null) {
            const delivery = deliveries[index]!;
            const body = step.type === "redeliver" && step.newEventId ? { ...delivery, event_id: flakeId() } : delivery;
            const response = await sendPaynow(harness, body);
            eventIds.push(String(body.event_id));
            expect(response.statusCode).toBe(200);
            expect(["processed", "parked", "ignored"]).toContain(response.json().status);
            const isNew = !seen.has(index);
            seen.add(index);
            if (index === 0) purchased = true;
            // A lost close is ignored; anything else new about a present purchase converges it.
            const ignored = index === 2 + scenario.refundsMinor.length && closeStatus === "lost";
            if (purchased && isNew && !ignored) converge();
          } else if (step.type === "admin") {
            const admin = scenario.admin[step.index]!;
            const acted = await adminAct(db(), uid, admin, `${run}-${step.index}`, harness.clock.now);
            if (acted) {
              adminActed = true;
              if (acted.side === "webhook") webhookReversed -= acted.restored;
              else manualReversed += acted.manualReversed;
            }
          } else if (step.type === "spend") {
            const available = (await walletPoints(db(), uid)) ?? 0;
            if (available > 0) {
              const points = 1 + ((scenario.spends[step.index]! - 1) % available);
              const result = await spendPoints(db(), { uid, points, idempotencyKey: `converge-${run}-${step.index}`, now: harness.clock.now });
              expect(result).toMatchObject({ outcome: { outcome: "posted" } });
              spent += points;
            }
          }
        }

        const balance = await walletPoints(db(), uid);
        expect(balance).toBe(P - webhookReversed - manualReversed - spent);
        if (!adminActed) {
          // Order-free: the set alone decides, whatever order it arrived in.
          const refunded = scenario.refundsMinor;
          expect(balance).toBe(P - modelTarget(P, scenario.paidMinor, refunded, scenario.chargeback) - spent);
        }
        expect(await capsBroken(db(), uid)).toEqual([]);
        const events = await db().kysely.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").where("event_id", "in", eventIds).execute();
        expect(events.filter((row) => row.status !== "processed" && row.status !== "ignored")).toEqual([]);
      }),
      { numRuns: 60 },
    );
    expect(await invariantViolations(db())).toEqual([]);
  });
});

type AdminAct = { side: "webhook"; restored: number } | { side: "manual"; manualReversed: number };

/**
 * An admin restores part of one of the user's reversals, or reverses part of the purchase
 * itself, through the same function as `POST /api/admin/entries/:id/reverse`. Returns what
 * it did, or null when there was nothing to act on.
 */
async function adminAct(db: Db, uid: string, admin: Scenario["admin"][number], key: string, now: Date): Promise<AdminAct | null> {
  const kind = admin.action === "restore_reversal" ? "reversal" : "purchase";
  const candidates = await db.kysely
    .selectFrom("ledger_entries as e")
    .leftJoin("ledger_entries as r", "r.reverses_entry_id", "e.id")
    .select((eb) => ["e.id", "e.amount", "e.source", eb.fn.coalesce(eb.fn.sum<number>("r.amount"), eb.lit(0)).as("referenced")])
    .where("e.uid", "=", uid)
    .where("e.kind", "=", kind)
    .groupBy(["e.id", "e.amount", "e.source"])
    .orderBy("e.id")
    .execute();
  const open = candidates
    .map((row) => ({ id: row.id, source: row.source, remaining: Math.abs(row.amount + Number(row.referenced)) }))
    .filter((row) => row.remaining > 0);
  if (open.length === 0) return null;
  const chosen = open[admin.pick % open.length]!;
  const points = Math.max(1, Math.floor((chosen.remaining * admin.size) / 100));
  const result = await reverseEntry(db, { entryId: chosen.id, points, reason: "property test", actor: "admin:property", idempotencyKey: `converge-admin-${key}`, now });
  expect(result).toMatchObject({ kind: "fresh", outcome: { outcome: "posted" } });
  if (kind === "purchase") return { side: "manual", manualReversed: points };
  // Restoring an admin's own reversal of the purchase gives back manual points; any other reversal is a webhook's.
  return chosen.source === "webhook" ? { side: "webhook", restored: points } : { side: "manual", manualReversed: -points };
}

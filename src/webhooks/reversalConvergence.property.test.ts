import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine, invariantViolations } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";
import { purchaseDeliveries } from "../../test/support/purchaseDeliveries.js";
import { modelReversalTarget } from "../../test/support/reversalModel.js";
import { useWebhookHarness } from "../../test/support/useWebhookHarness.js";
import { reverseEntry } from "../ledger/reverseEntry.js";
import { spendPoints } from "../ledger/spendPoints.js";
import type { Db } from "../storage/openDatabase.js";
import { unreachable } from "../unreachable.js";

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
  /** Delivers the `index`-th delivery (0 the purchase, then the refunds, the chargeback, its close), again under a new event id when asked. */
  | { type: "deliver"; index: number; newEventId: boolean }
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

const chargebackIndex = (scenario: Scenario) => 1 + scenario.refundsMinor.length;
const closeIndex = (scenario: Scenario) => 2 + scenario.refundsMinor.length;

function deliveryCount(scenario: Scenario): number {
  return 1 + scenario.refundsMinor.length + (scenario.chargeback === "none" ? 0 : scenario.chargeback === "open" ? 1 : 2);
}

function stepsOf(scenario: Scenario): Step[] {
  const count = deliveryCount(scenario);
  return [
    ...Array.from({ length: count }, (_, index): Step => ({ type: "deliver", index, newEventId: false })),
    ...scenario.redeliveries.map(({ of, newEventId }): Step => ({ type: "deliver", index: of % count, newEventId })),
    ...scenario.admin.map((_, index): Step => ({ type: "admin", index })),
    ...scenario.spends.map((_, index): Step => ({ type: "spend", index })),
  ];
}

const runArbitrary = scenarioArbitrary.chain((scenario) => {
  const steps = stepsOf(scenario);
  return fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }).map((order) => ({ scenario, order }));
});

/**
 * What the user must hold, followed step by step: which deliveries arrived (by business
 * key), what the webhook side and an admin's own reversals of the purchase hold reversed,
 * and what was spent. Each new event about a present purchase brings the webhook side to
 * the target of what arrived so far, bounded by what the admin left.
 */
class Model {
  readonly #seen = new Set<number>();
  #webhookReversed = 0;
  #manualReversed = 0;
  #spent = 0;
  adminActed = false;

  constructor(private readonly scenario: Scenario) {}

  delivered(index: number): void {
    const isNew = !this.#seen.has(index);
    this.#seen.add(index);
    const lostClose = index === closeIndex(this.scenario) && this.scenario.chargeback === "lost";
    if (this.#seen.has(0) && isNew && !lostClose) this.#converge();
  }

  adminDid(act: AdminAct): void {
    this.adminActed = true;
    if (act.side === "webhook") this.#webhookReversed -= act.restored;
    else this.#manualReversed += act.manualReversed;
  }

  spent(points: number): void {
    this.#spent += points;
  }

  balance(): number {
    return this.scenario.points - this.#webhookReversed - this.#manualReversed - this.#spent;
  }

  /** With no admin action, the balance the set alone decides. */
  orderFreeBalance(): number {
    const { points, paidMinor, refundsMinor, chargeback } = this.scenario;
    return points - modelReversalTarget(points, paidMinor, refundsMinor, chargeback) - this.#spent;
  }

  #converge(): void {
    const { points, paidMinor, refundsMinor, chargeback } = this.scenario;
    const refunded = refundsMinor.filter((_, index) => this.#seen.has(1 + index));
    // A won close without its chargeback moves nothing; a lost close is ignored.
    const phase = !this.#seen.has(chargebackIndex(this.scenario)) ? "none" : chargeback === "won" && this.#seen.has(closeIndex(this.scenario)) ? "won" : "open";
    this.#webhookReversed = Math.max(0, Math.min(modelReversalTarget(points, paidMinor, refunded, phase), points - this.#manualReversed));
  }
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
  const harness = useWebhookHarness(db);

  it("the final balance equals the order-free expectation, the invariant holds and no reversal passes its original", async () => {
    await fc.assert(
      fc.asyncProperty(runArbitrary, async ({ scenario, order }) => {
        run++;
        const uid = `converge_${run}`;
        const product = `converge_product_${run}`;
        await catalogue(db(), "paynow", product, scenario.points);
        const deliveries = purchaseDeliveries(scenario, uid, product);
        const model = new Model(scenario);
        const eventIds: string[] = [];
        for (const step of order) {
          switch (step.type) {
            case "deliver": {
              const delivery = deliveries[step.index]!;
              const body = step.newEventId ? { ...delivery, event_id: flakeId() } : delivery;
              eventIds.push(String(body.event_id));
              const response = await sendPaynow(harness, body);
              expect(response.statusCode).toBe(200);
              expect(["processed", "parked", "ignored"]).toContain(response.json().status);
              model.delivered(step.index);
              break;
            }
            case "admin": {
              const act = await adminAct(db(), uid, scenario.admin[step.index]!, `${run}-${step.index}`, harness.clock.now);
              if (act) model.adminDid(act);
              break;
            }
            case "spend": {
              const points = await spendSome(db(), uid, scenario.spends[step.index]!, `converge-${run}-${step.index}`, harness.clock.now);
              model.spent(points);
              break;
            }
            default:
              unreachable(step, "step");
          }
        }

        const balance = await walletPoints(db(), uid);
        expect(balance).toBe(model.balance());
        // Order-free: without an admin, the set alone decides, whatever order it arrived in.
        if (!model.adminActed) expect(balance).toBe(model.orderFreeBalance());
        expect(await capsBroken(db(), uid)).toEqual([]);
        const events = await db().kysely.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").where("event_id", "in", eventIds).execute();
        expect(events.filter((row) => row.status !== "processed" && row.status !== "ignored")).toEqual([]);
      }),
      { numRuns: 60 },
    );
    expect(await invariantViolations(db())).toEqual([]);
  });
});

/** Spends part of what the wallet holds (nothing when it holds nothing); returns the points spent. */
async function spendSome(db: Db, uid: string, percent: number, key: string, now: Date): Promise<number> {
  const available = (await walletPoints(db, uid)) ?? 0;
  if (available <= 0) return 0;
  const points = Math.max(1, Math.floor((available * percent) / 100));
  const result = await spendPoints(db, { uid, points, idempotencyKey: key, now });
  expect(result).toMatchObject({ outcome: { outcome: "posted" } });
  return points;
}

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

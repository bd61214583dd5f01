import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readStripeDelivery, readStripeSession, STRIPE_EVENT_TYPES_READ } from "./readStripeDelivery.js";

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const event = (type: string, object: Record<string, unknown>) => bytes({ id: "evt_1", type, livemode: false, created: 1, data: { object } });

function session(extra: Record<string, unknown> = {}, metadata: Record<string, unknown> = { uid: "user_1", price_id: "price_1" }) {
  return { id: "cs_1", payment_status: "paid", metadata, payment_intent: "pi_1", amount_total: 1000, ...extra };
}

describe("metadata.quantity of a Stripe session", () => {
  /** The rule, independently: a plain decimal whole number from 1 to 1,000,000, nothing else. */
  const expected = (quantity: string): number | null => (/^[1-9][0-9]{0,6}$/.test(quantity) && Number(quantity) <= 1_000_000 ? Number(quantity) : null);

  for (const bad of ["-5", "0", "2.5", "abc", "0x10", "1e3", " 3", "", "+3", "03", "1000001"]) {
    it(`${JSON.stringify(bad)} fails the delivery with a reason, crediting nothing`, () => {
      const read = readStripeDelivery(event("checkout.session.completed", session({}, { uid: "user_1", price_id: "price_1", quantity: bad })));
      expect(read.event).toEqual({ kind: "invalid_payload", detail: "data.object.metadata.quantity: must be a whole number from 1 to 1000000" });
    });
  }

  it("a JSON number is not a Stripe metadata value and fails too", () => {
    const read = readStripeDelivery(event("checkout.session.completed", session({}, { uid: "user_1", price_id: "price_1", quantity: 3 })));
    expect(read.event.kind).toBe("invalid_payload");
  });

  it("absent means one unit", () => {
    expect(readStripeDelivery(event("checkout.session.completed", session())).event).toMatchObject({ kind: "credit", lines: [{ quantity: 1 }] });
  });

  it("any string is either exactly its whole number or a failed delivery", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 10 }), fc.integer({ min: -10, max: 2_000_000 }).map(String), fc.stringMatching(/^[0-9.xe+-]{1,8}$/)), (quantity) => {
        const read = readStripeDelivery(event("checkout.session.completed", session({}, { uid: "user_1", price_id: "price_1", quantity })));
        const want = expected(quantity);
        if (want === null) expect(read.event.kind).toBe("invalid_payload");
        else expect(read.event).toMatchObject({ kind: "credit", lines: [{ catalogueIds: ["price_1"], quantity: want }] });
      }),
      { numRuns: 500 },
    );
  });
});

describe("amount_total of a paid Stripe session", () => {
  for (const [name, extra] of [
    ["missing", { amount_total: undefined }],
    ["null", { amount_total: null }],
  ] as const) {
    it(`${name} is an invalid payload, never a purchase that cost nothing`, () => {
      const read = readStripeDelivery(event("checkout.session.completed", session(extra)));
      expect(read.event).toEqual({ kind: "invalid_payload", detail: "data.object.amount_total: a paid session must say what was paid" });
    });
  }

  it("is the purchase's paid amount when present", () => {
    expect(readStripeDelivery(event("checkout.session.completed", session({ amount_total: 499 }))).event).toMatchObject({ kind: "credit", paidMinor: 499 });
  });

  it("does not matter for a session that is not paid (it is ignored)", () => {
    expect(readStripeDelivery(event("checkout.session.completed", session({ amount_total: null, payment_status: "unpaid" }))).event).toEqual({
      kind: "ignored",
      reason: "payment_unpaid",
    });
  });
});

describe("Stripe dispute events follow the money, by Stripe's dispute statuses", () => {
  const STATUSES = ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost", "prevented", "charge_refunded"];
  const TYPES = ["charge.dispute.created", "charge.dispute.updated", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated", "charge.dispute.closed"];

  /**
   * The table, written from Stripe's documentation: an inquiry (warning_*) moves no
   * funds; a chargeback withdraws them when it is created; funds_withdrawn and
   * funds_reinstated say the money moved; a dispute closes won (funds back) or lost.
   */
  function expected(type: string, status: string): "chargeback" | "chargeback_won" | "ignored" {
    if (type === "charge.dispute.funds_withdrawn") return "chargeback";
    if (type === "charge.dispute.funds_reinstated") return "chargeback_won";
    if (type === "charge.dispute.created") return ["needs_response", "under_review", "lost"].includes(status) ? "chargeback" : "ignored";
    if (type === "charge.dispute.closed") return status === "won" ? "chargeback_won" : "ignored";
    return "ignored";
  }

  for (const type of TYPES) {
    for (const status of STATUSES) {
      it(`${type} with status ${status} -> ${expected(type, status)}`, () => {
        const read = readStripeDelivery(event(type, { id: "dp_1", object: "dispute", status, payment_intent: "pi_1", amount: 1000 }));
        expect(read.event.kind).toBe(expected(type, status));
        if (read.event.kind === "chargeback") expect(read.event).toEqual({ kind: "chargeback", purchaseRef: "stripe:payment_intent:pi_1", reversalKey: "stripe:dispute:dp_1:reversal" });
        if (read.event.kind === "chargeback_won") {
          expect(read.event).toEqual({
            kind: "chargeback_won",
            purchaseRef: "stripe:payment_intent:pi_1",
            reversalKey: "stripe:dispute:dp_1:reversal",
            reinstatementKey: "stripe:dispute:dp_1:reinstatement",
          });
        }
      });
    }
  }
});

describe("the event types the provider sync lists are exactly the ones this reader acts on", () => {
  const unhandled = (type: string) => {
    const read = readStripeDelivery(event(type, {}));
    return read.event.kind === "ignored" && read.event.reason === "unhandled_event_type";
  };

  it("every listed type is read (an empty object fails its schema instead of being ignored as unknown)", () => {
    for (const type of STRIPE_EVENT_TYPES_READ) expect(unhandled(type), type).toBe(false);
  });

  it("any other type is stored and ignored, so the sync need not list it", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_]{1,12}(\.[a-z_]{1,12}){0,3}$/), (type) => {
        fc.pre(!(STRIPE_EVENT_TYPES_READ as readonly string[]).includes(type));
        expect(unhandled(type)).toBe(true);
      }),
    );
    for (const type of ["payment_intent.succeeded", "charge.succeeded", "charge.dispute.updated", "checkout.session.expired"]) expect(unhandled(type), type).toBe(true);
  });

  it("a listed session reads as its checkout.session.completed delivery does", () => {
    const object = session({ client_reference_id: "user_2" });
    expect(readStripeSession(object)).toEqual(readStripeDelivery(event("checkout.session.completed", object)).event);
  });
});

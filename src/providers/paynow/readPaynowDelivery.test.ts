import { expect, it } from "vitest";
import { readPaynowDelivery } from "./readPaynowDelivery.js";

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

const order = (extra: object = {}) =>
  bytes({
    event_type: "ON_ORDER_COMPLETED",
    event_id: "498213378450001920",
    body: {
      id: "498213377992822784",
      checkout: { metadata: { uid: "user_42" } },
      total_amount: 500,
      lines: [{ product_id: "458255405240287232", quantity: 2 }],
      ...extra,
    },
  });

it("reads an order as a credit keyed on the order id, ids kept as the exact strings sent", () => {
  const read = readPaynowDelivery(order());
  expect(read).toEqual({
    eventId: "498213378450001920",
    eventType: "ON_ORDER_COMPLETED",
    livemode: null,
    event: {
      kind: "credit",
      purchaseKey: "paynow:order:498213377992822784",
      purchaseRefs: ["paynow:order:498213377992822784"],
      uid: "user_42",
      lines: [{ catalogueIds: ["458255405240287232"], quantity: 2 }],
      paidMinor: 500,
    },
  });
});

it("an order whose uid is not a valid user id names no user", () => {
  const read = readPaynowDelivery(order({ checkout: { metadata: { uid: "../../etc" } } }));
  expect(read.event).toMatchObject({ kind: "credit", uid: null });
});

it("a body that is not JSON is filed under the hash of its bytes", () => {
  const read = readPaynowDelivery(Buffer.from("{oops"));
  expect(read.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(read.event).toEqual({ kind: "invalid_payload", detail: "body is not valid JSON" });
});

it("a refund that is not completed is ignored; a completed one keys on the refund id", () => {
  const refund = (status: string) =>
    bytes({ event_type: "ON_REFUND", event_id: "1", body: { id: "77", order_id: "66", store_refund_amount: 100, status } });
  expect(readPaynowDelivery(refund("approved")).event).toEqual({ kind: "ignored", reason: "refund_approved" });
  expect(readPaynowDelivery(refund("completed")).event).toEqual({
    kind: "refund",
    purchaseRef: "paynow:order:66",
    refunds: [{ refundKey: "paynow:refund:77", refundedMinor: 100 }],
  });
});

it("the two chargeback phases carry the same payment id but distinct keys", () => {
  const chargeback = (type: string, status: string) =>
    bytes({ event_type: type, event_id: "1", body: { id: "55", order_id: "66", chargeback_status: status } });
  expect(readPaynowDelivery(chargeback("ON_CHARGEBACK", "open")).event).toEqual({
    kind: "chargeback",
    purchaseRef: "paynow:order:66",
    reversalKey: "paynow:chargeback:55:ON_CHARGEBACK",
  });
  expect(readPaynowDelivery(chargeback("ON_CHARGEBACK_CLOSED", "won")).event).toMatchObject({
    kind: "chargeback_won",
    reinstatementKey: "paynow:chargeback:55:ON_CHARGEBACK_CLOSED",
  });
});

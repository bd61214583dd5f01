import { sql } from "kysely";
import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import { deliver, orderBody, paynowDelivery, paynowHeaders, refundBody, type DemoOrder, type DemoProduct } from "./demoDelivery.js";

/**
 * What the demo plants for a newcomer to find, each the kind of problem Reckon exists
 * for, and which command repairs it (docs/decisions/demo-planted-problems.md).
 */
export interface PlantedProblems {
  /** A wallet moved by hand behind the ledger's back: `reckon reconcile` finds the drift and heals it. */
  handEdit: { uid: string; points: number };
  /** A purchase of a product missing from the catalogue, stored `failed` (`unknown_product`): add the product, then `backfill replay`. */
  failedDelivery: { uid: string; eventId: string; product: DemoProduct; quantity: number };
  /** A refund the shop's previous handler marked processed without taking the points back: `backfill reversals` reverses it. */
  unreversedRefund: { uid: string; eventId: string; orderId: string; points: number };
}

/** The product the demo catalogue lacks until the newcomer adds it. */
export const MISSING_PRODUCT: DemoProduct = { productId: "458255405240287235", name: "500 Points", points: 500, priceMinor: 3000 };

const HAND_EDIT_POINTS = 250;

export function demoUid(index: number): string {
  return `demo_user_${String(index + 1).padStart(4, "0")}`;
}

/**
 * Plants the three problems into a freshly seeded demo (`users` ≥ 3), all dated `now`,
 * so `backfill … --from today --to today` covers them. `orders` is the seeded traffic,
 * oldest first; its first order is already refunded by the ordinary demo refund.
 */
export async function plantProblems(
  db: Db,
  input: { users: number; orders: readonly DemoOrder[]; now: Date; config: Config; secret: string },
): Promise<PlantedProblems> {
  const handEdit = { uid: demoUid(Math.floor(input.users / 7)), points: HAND_EDIT_POINTS };
  await sql`UPDATE wallets SET points = points + ${handEdit.points} WHERE uid = ${handEdit.uid}`.execute(db.kysely);

  const failedOrder: DemoOrder = {
    uid: demoUid(Math.floor(input.users / 2)),
    orderId: `5${String(input.orders.length + 1).padStart(17, "0")}`,
    product: MISSING_PRODUCT,
    quantity: 1,
    at: input.now,
  };
  const failedEventId = `4${failedOrder.orderId.slice(1)}`;
  const stored = await deliver(db, input.config, input.secret, paynowDelivery("ON_ORDER_COMPLETED", failedEventId, orderBody(failedOrder)), input.now);
  if (stored !== "failed") throw new Error(`the demo's delivery of an unknown product was stored ${String(stored)}, not failed`);

  const refunded = await refundTarget(db, input.orders);
  const refundEventId = "300000000000000013";
  const rawBody = paynowDelivery("ON_REFUND", refundEventId, refundBody("300000000000000011", refunded, input.now));
  // As the shop's previous webhook handler left it: stored and marked done, no reversal posted.
  await db.kysely
    .insertInto("webhook_events")
    .values({
      provider: "paynow",
      event_id: refundEventId,
      event_type: "ON_REFUND",
      status: "processed",
      raw_body: Buffer.from(rawBody),
      headers: JSON.stringify(paynowHeaders(input.secret, rawBody, input.now)),
      livemode: null,
      received_at: input.now.toISOString(),
      processed_at: input.now.toISOString(),
    })
    .execute();
  return {
    handEdit,
    failedDelivery: { uid: failedOrder.uid, eventId: failedEventId, product: MISSING_PRODUCT, quantity: failedOrder.quantity },
    unreversedRefund: { uid: refunded.uid, eventId: refundEventId, orderId: refunded.orderId, points: refunded.product.points * refunded.quantity },
  };
}

/**
 * The newest order, other than the one the demo already refunded, whose buyer still
 * holds its points: reversing it leaves the wallet at zero or above, so the story
 * stays about the missing reversal rather than a negative balance.
 */
async function refundTarget(db: Db, orders: readonly DemoOrder[]): Promise<DemoOrder> {
  const candidates = orders.slice(1).reverse().slice(0, 200);
  const wallets = await db.kysely.selectFrom("wallets").select(["uid", "points"]).where("uid", "in", [...new Set(candidates.map((order) => order.uid))]).execute();
  const points = new Map(wallets.map((wallet) => [wallet.uid, wallet.points]));
  return candidates.find((order) => (points.get(order.uid) ?? 0) >= order.product.points * order.quantity) ?? candidates[0]!;
}

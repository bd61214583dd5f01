import { randomBytes } from "node:crypto";
import { setProduct } from "../catalogue/setProduct.js";
import type { Config } from "../config.js";
import { spendPoints } from "../ledger/spendPoints.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { deliver, orderBody, paynowDelivery, refundBody, type DemoOrder, type DemoProduct } from "./demoDelivery.js";
import { demoUid, plantProblems, type PlantedProblems } from "./plantProblems.js";

export interface DemoSummary {
  users: number;
  purchases: number;
  spends: number;
  refunds: number;
  sampleUid: string;
  planted: PlantedProblems;
}

/** The fewest users a demo has: each planted problem gets a user of its own. */
export const MIN_DEMO_USERS = 3;

const PRODUCTS: readonly DemoProduct[] = [
  { productId: "458255405240287232", name: "50 Points", points: 50, priceMinor: 500 },
  { productId: "458255405240287233", name: "120 Points", points: 120, priceMinor: 1000 },
  { productId: "458255405240287234", name: "300 Points", points: 300, priceMinor: 2000 },
];

/** A small deterministic generator, so every demo database looks the same. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function planOrders(users: number, now: Date): DemoOrder[] {
  const random = mulberry32(42);
  const orders: DemoOrder[] = [];
  for (let index = 0; index < users; index++) {
    const uid = demoUid(index);
    const count = 1 + Math.floor(random() * 3);
    for (let order = 0; order < count; order++) {
      orders.push({
        uid,
        orderId: `5${String(orders.length + 1).padStart(17, "0")}`,
        product: PRODUCTS[Math.floor(random() * PRODUCTS.length)]!,
        quantity: 1 + Math.floor(random() * 2),
        at: new Date(now.getTime() - Math.floor(random() * 30 * 86_400_000)),
      });
    }
  }
  return orders.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * Seeds a believable shop: a PayNow catalogue, `users` users who bought points over
 * the last 30 days (signed PayNow deliveries through the webhook path), spent some
 * through the spend function, and one refund delivered by PayNow. Then it plants the
 * problems a newcomer should see Reckon find and repair (`plantProblems`). The
 * deliveries are signed with a secret made for the seeding and forgotten after it.
 */
export async function seedDemo(
  db: Db,
  options: { users: number; now: Date; config: Config; onProgress?: (progress: { done: number; total: number }) => void },
): Promise<DemoSummary> {
  if (!Number.isInteger(options.users) || options.users < MIN_DEMO_USERS) throw new Error(`a demo needs at least ${MIN_DEMO_USERS} users`);
  const secret = randomBytes(32).toString("hex");
  const config: Config = { ...options.config, providers: { ...options.config.providers, paynowWebhookSecrets: [secret] } };
  await withTransaction(db, async (trx) => {
    for (const product of PRODUCTS) {
      await setProduct(trx, { provider: "paynow", productId: product.productId, pointsPerUnit: product.points, name: product.name, actor: "demo", now: options.now });
    }
  });

  const orders = planOrders(options.users, options.now);
  // Progress counts each order delivered, then each user's spends.
  const steps = { done: 0, total: orders.length + options.users };
  let purchases = 0;
  for (const order of orders) {
    if ((await deliver(db, config, secret, paynowDelivery("ON_ORDER_COMPLETED", `4${order.orderId.slice(1)}`, orderBody(order)), order.at)) === "processed") purchases++;
    options.onProgress?.({ done: ++steps.done, total: steps.total });
  }

  const random = mulberry32(7);
  let spends = 0;
  for (let index = 0; index < options.users; index++) {
    const uid = demoUid(index);
    for (let spend = 0; spend < Math.floor(random() * 4); spend++) {
      const result = await spendPoints(db, { uid, points: 5 + Math.floor(random() * 60), idempotencyKey: `demo-spend-${uid}-${spend}`, reason: "demo purchase in app", now: options.now });
      if (result.kind === "fresh" && result.outcome.outcome === "posted") spends++;
    }
    options.onProgress?.({ done: ++steps.done, total: steps.total });
  }

  const refunded = orders[0]!;
  const refundDelivery = paynowDelivery("ON_REFUND", "300000000000000003", refundBody("300000000000000001", refunded, options.now));
  const refunds = (await deliver(db, config, secret, refundDelivery, options.now)) === "processed" ? 1 : 0;
  const planted = await plantProblems(db, { users: options.users, orders, now: options.now, config, secret });
  return { users: options.users, purchases, spends, refunds, sampleUid: refunded.uid, planted };
}

export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.kysely.selectFrom("wallets").select("uid").limit(1).executeTakeFirst();
  return row === undefined;
}

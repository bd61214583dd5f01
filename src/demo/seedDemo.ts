import { setProduct } from "../catalogue/setProduct.js";
import { postEntry } from "../ledger/postEntry.js";
import { reverseEntry } from "../ledger/reverseEntry.js";
import { spendPoints } from "../ledger/spendPoints.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";

export interface DemoSummary {
  users: number;
  purchases: number;
  spends: number;
  refunds: number;
  sampleUid: string;
}

const PRODUCTS = [
  { productId: "458255405240287232", name: "50 Points", points: 50 },
  { productId: "458255405240287233", name: "120 Points", points: 120 },
  { productId: "458255405240287234", name: "300 Points", points: 300 },
] as const;

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

/**
 * Seeds a believable shop: a PayNow catalogue, `users` users who bought points over
 * the last 30 days, spent some, and one refund. It uses the ledger functions the API
 * uses, so the data obeys every rule live data does.
 */
export async function seedDemo(db: Db, options: { users: number; now: Date }): Promise<DemoSummary> {
  const random = mulberry32(42);
  const dayMs = 86_400_000;
  await withTransaction(db, async (trx) => {
    for (const product of PRODUCTS) {
      await setProduct(trx, {
        provider: "paynow",
        productId: product.productId,
        pointsPerUnit: product.points,
        name: product.name,
        actor: "demo",
        now: options.now,
      });
    }
  });
  let purchases = 0;
  let spends = 0;
  let firstPurchase: number | undefined;
  for (let index = 0; index < options.users; index++) {
    const uid = `demo_user_${String(index + 1).padStart(4, "0")}`;
    const orders = 1 + Math.floor(random() * 3);
    for (let order = 0; order < orders; order++) {
      const product = PRODUCTS[Math.floor(random() * PRODUCTS.length)]!;
      const quantity = 1 + Math.floor(random() * 2);
      const at = new Date(options.now.getTime() - Math.floor(random() * 30) * dayMs);
      const posted = await withTransaction(db, (trx) =>
        postEntry(trx, {
          uid,
          kind: "purchase",
          amount: product.points * quantity,
          idempotencyKey: `demo:order:${uid}:${order}`,
          source: "demo",
          sourceRef: `order ${product.name} x${quantity}`,
          now: at,
        }),
      );
      if (posted.outcome === "posted") {
        purchases++;
        firstPurchase ??= posted.entry.id;
      }
    }
    const spendCount = Math.floor(random() * 4);
    for (let spend = 0; spend < spendCount; spend++) {
      const result = await spendPoints(db, {
        uid,
        points: 5 + Math.floor(random() * 60),
        idempotencyKey: `demo-spend-${uid}-${spend}`,
        reason: "demo purchase in app",
        now: options.now,
      });
      if (result.kind === "fresh" && result.outcome.outcome === "posted") spends++;
    }
  }
  let refunds = 0;
  if (firstPurchase !== undefined) {
    const refund = await reverseEntry(db, {
      entryId: firstPurchase,
      reason: "demo refund",
      actor: "demo",
      idempotencyKey: "demo-refund-1",
      now: options.now,
    });
    if (refund.kind === "fresh" && refund.outcome.outcome === "posted") refunds++;
  }
  return { users: options.users, purchases, spends, refunds, sampleUid: "demo_user_0001" };
}

export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.kysely.selectFrom("wallets").select("uid").limit(1).executeTakeFirst();
  return row === undefined;
}

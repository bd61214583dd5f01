import type { Db } from "../../src/storage/openDatabase.js";
import { NOW, paynowOrder } from "./webhookFixtures.js";

/**
 * Stored, never-applied PayNow orders for `product`, as a delivery that was received
 * and never processed leaves them; rows `offset` to `offset + count`, so a large set
 * can be built chunk by chunk.
 */
export function receivedOrderRows(input: { count: number; product: string; prefix: string; users?: number; offset?: number }) {
  const users = input.users ?? 50;
  const offset = input.offset ?? 0;
  return Array.from({ length: input.count }, (_, position) => {
    const index = offset + position;
    const order = paynowOrder({ orderId: `${input.prefix}${index}`, uid: `${input.prefix}_u${index % users}`, lines: [{ productId: input.product, quantity: 1 + (index % 3) }] });
    return receivedOrderRow(order, new Date(NOW.getTime() + index));
  });
}

/** The `webhook_events` row of one PayNow order that was received and never applied. */
export function receivedOrderRow(order: ReturnType<typeof paynowOrder>, receivedAt: Date = NOW) {
  return {
    provider: "paynow",
    event_id: order.event_id,
    event_type: order.event_type,
    status: "received" as const,
    raw_body: Buffer.from(JSON.stringify(order)),
    headers: "{}",
    livemode: null,
    received_at: receivedAt.toISOString(),
  };
}

export async function insertEvents(db: Db, rows: ReturnType<typeof receivedOrderRows>): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    await db.kysely.insertInto("webhook_events").values(rows.slice(start, start + 500)).execute();
  }
}

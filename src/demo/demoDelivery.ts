import type { Config } from "../config.js";
import { signPaynow } from "../providers/paynow/verifyPaynowSignature.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookStatus } from "../storage/schema.js";
import { ingestDelivery } from "../webhooks/ingestDelivery.js";

/** A PayNow product as the demo shop sells it; `priceMinor` in cents. */
export interface DemoProduct {
  productId: string;
  name: string;
  points: number;
  priceMinor: number;
}

export interface DemoOrder {
  uid: string;
  orderId: string;
  product: DemoProduct;
  quantity: number;
  at: Date;
}

/** A PayNow delivery as PayNow sends it, with PayNow's fields (PROVIDERS.md). */
export function paynowDelivery(eventType: string, eventId: string, body: Record<string, unknown>): string {
  return JSON.stringify({ event_type: eventType, event_id: eventId, body });
}

export function orderBody(order: DemoOrder): Record<string, unknown> {
  const total = order.product.priceMinor * order.quantity;
  return {
    id: order.orderId,
    store_id: "321641745957789696",
    customer: { id: `49820111${order.orderId.slice(-10)}`, name: order.uid },
    checkout_id: `7${order.orderId.slice(1)}`,
    checkout: { id: `7${order.orderId.slice(1)}`, metadata: { uid: order.uid }, lines: [] },
    currency: "USD",
    total_amount: total,
    status: "completed",
    completed_at: order.at.toISOString(),
    lines: [
      {
        id: `6${order.orderId.slice(1)}`,
        product_id: order.product.productId,
        product: { id: order.product.productId, name: order.product.name, price: order.product.priceMinor, metadata: {} },
        price: order.product.priceMinor,
        quantity: order.quantity,
        total_amount: total,
      },
    ],
  };
}

/** A PayNow refund of the whole of `order`, completed at `at`. */
export function refundBody(refundId: string, order: DemoOrder, at: Date): Record<string, unknown> {
  const total = order.product.priceMinor * order.quantity;
  return {
    id: refundId,
    order_id: order.orderId,
    payment_id: `2${refundId.slice(1)}`,
    currency: "USD",
    amount: total,
    store_refund_amount: total,
    status: "completed",
    completed_at: at.toISOString(),
  };
}

/** The headers PayNow signs a delivery with. */
export function paynowHeaders(secret: string, rawBody: string, at: Date): Record<string, string> {
  const timestamp = at.getTime();
  return { "paynow-signature": signPaynow(secret, timestamp, rawBody), "paynow-timestamp": String(timestamp) };
}

/** Signs and ingests one delivery exactly as the PayNow route does; the status it was stored with, or null if refused. */
export async function deliver(db: Db, config: Config, secret: string, rawBody: string, at: Date): Promise<WebhookStatus | null> {
  const outcome = await ingestDelivery(db, config, { provider: "paynow", rawBody: Buffer.from(rawBody), headers: paynowHeaders(secret, rawBody, at) }, at);
  return outcome.outcome === "stored" ? outcome.status : null;
}

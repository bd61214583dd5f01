import { randomBytes } from "node:crypto";
import { signPaynow } from "../providers/paynow/verifyPaynowSignature.js";

/**
 * A PayNow store as its Management API shows it, for tests and the demo: it "sells"
 * points (orders, payments, refunds, chargebacks), sends each event as a signed webhook
 * to Reckon, and keeps the webhook history PayNow keeps, including the deliveries a
 * switch chose to drop. Shapes follow ../shared/PROVIDERS.md; ids are Snowflake ids
 * minted from the store's clock, so an id walk over a window finds that window's orders.
 */

const PAYNOW_EPOCH_MS = 1645568542000n;
const EVENT_TYPES = ["ON_ORDER_COMPLETED", "ON_REFUND", "ON_CHARGEBACK", "ON_CHARGEBACK_CLOSED"] as const;
type EventType = (typeof EVENT_TYPES)[number];
/** History's names for the payloads' event types. */
const HISTORY_NAMES: Record<EventType, string> = {
  ON_ORDER_COMPLETED: "OnOrderCompleted",
  ON_REFUND: "OnRefund",
  ON_CHARGEBACK: "OnChargeback",
  ON_CHARGEBACK_CLOSED: "OnChargebackClosed",
};

export interface FakeOrder {
  id: string;
  pretty_id: string;
  store_id: string;
  customer_id: string;
  customer: { id: string; name: string; metadata: Record<string, string> };
  type: "one_time";
  status: "created" | "completed" | "canceled" | "refunded" | "chargeback";
  checkout_id: string;
  currency: string;
  subtotal_amount: number;
  discount_amount: number;
  tax_amount: number;
  total_amount: number;
  created_at: string;
  completed_at: string | null;
  lines: { id: string; product_id: string; product_version_id: string; product_name: string; quantity: number; price: number }[];
}

export interface FakeRefund {
  id: string;
  payment_id: string;
  order_line_id: string | null;
  status: "created" | "approved" | "processing" | "completed" | "canceled" | "failed";
  amount: number;
  store_refund_amount: number;
  currency: string;
  created_at: string;
  completed_at: string | null;
}

export interface FakePayment {
  id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: string;
  chargeback_status: "none" | "pending" | "won" | "lost";
  chargeback_at: string | null;
  chargeback_status_updated_at: string | null;
  refunded_at: string | null;
  refunds: FakeRefund[];
}

export interface HistoryItem {
  id: string;
  webhook_id: string;
  created_at: string;
  state: "success" | "pending" | "failed";
  next_retry: string | null;
  event: string;
  payload: { event_type: string; event_id: string; body: unknown };
  executions: { started_at: string; finished_at: string; status_code: number; response: string }[];
}

/** Sends one signed delivery to Reckon; answers the HTTP status Reckon gave. */
export type Deliver = (rawBody: string, headers: Record<string, string>) => Promise<number>;

export interface FakePaynowStoreOptions {
  now: () => Date;
  deliver: Deliver;
  storeId?: string;
}

export class FakePaynowStore {
  readonly storeId: string;
  /** One subscription per event type, each with its own signing secret, as PayNow does. */
  readonly webhooks: { id: string; event: EventType; secret: string }[];
  readonly orders: FakeOrder[] = [];
  readonly payments: FakePayment[] = [];
  readonly history: HistoryItem[] = [];
  /** Deliveries still to drop: each is recorded as failed in history and never sent. */
  private dropping = 0;
  private sequence = 0n;

  constructor(private readonly options: FakePaynowStoreOptions) {
    this.storeId = options.storeId ?? this.newId();
    this.webhooks = EVENT_TYPES.map((event) => ({ id: this.newId(), event, secret: randomBytes(24).toString("hex") }));
  }

  /** Every secret, as Reckon's PAYNOW_WEBHOOK_SECRETS lists them. */
  get secrets(): string[] {
    return this.webhooks.map((hook) => hook.secret);
  }

  /** The next `count` deliveries fail as if Reckon had been unreachable. */
  dropNext(count = 1): void {
    this.dropping += count;
  }

  newId(): string {
    this.sequence = (this.sequence + 1n) % 4096n;
    return String(((BigInt(this.options.now().getTime()) - PAYNOW_EPOCH_MS) << 22n) | this.sequence);
  }

  /** A completed order for `uid` (put in checkout metadata, as an app does), its payment and its webhook. */
  async sell(input: { uid: string | null; productId: string; quantity: number; priceMinor: number }): Promise<{ order: FakeOrder; payment: FakePayment; eventId: string }> {
    const at = this.options.now().toISOString();
    const total = input.priceMinor * input.quantity;
    const customerId = this.newId();
    const order: FakeOrder = {
      id: this.newId(),
      pretty_id: `PN-${this.orders.length + 1}`,
      store_id: this.storeId,
      customer_id: customerId,
      customer: { id: customerId, name: "Customer", metadata: {} },
      type: "one_time",
      status: "completed",
      checkout_id: this.newId(),
      currency: "usd",
      subtotal_amount: total,
      discount_amount: 0,
      tax_amount: 0,
      total_amount: total,
      created_at: at,
      completed_at: at,
      lines: [{ id: this.newId(), product_id: input.productId, product_version_id: this.newId(), product_name: "Points", quantity: input.quantity, price: input.priceMinor }],
    };
    const payment: FakePayment = {
      id: this.newId(),
      order_id: order.id,
      amount: total,
      currency: "usd",
      status: "completed",
      chargeback_status: "none",
      chargeback_at: null,
      chargeback_status_updated_at: null,
      refunded_at: null,
      refunds: [],
    };
    this.orders.push(order);
    this.payments.push(payment);
    // The webhook's order carries the checkout with its metadata; the orders list does not.
    const body = { ...order, checkout: { id: order.checkout_id, metadata: input.uid === null ? {} : { uid: input.uid }, lines: [] } };
    const eventId = await this.emit("ON_ORDER_COMPLETED", body);
    return { order, payment, eventId };
  }

  /** A completed refund of `amountMinor` of the order's payment, and its webhook. */
  async refund(orderId: string, amountMinor: number): Promise<{ refund: FakeRefund; eventId: string }> {
    const payment = this.paymentOf(orderId);
    const at = this.options.now().toISOString();
    const refund: FakeRefund = {
      id: this.newId(),
      payment_id: payment.id,
      order_line_id: null,
      status: "completed",
      amount: payment.amount,
      store_refund_amount: amountMinor,
      currency: payment.currency,
      created_at: at,
      completed_at: at,
    };
    payment.refunds.push(refund);
    payment.status = "refunded";
    payment.refunded_at = at;
    this.orderOf(orderId).status = "refunded";
    const eventId = await this.emit("ON_REFUND", { ...refund, order_id: orderId });
    return { refund, eventId };
  }

  /** Opens a chargeback on the order's payment (`ON_CHARGEBACK`). */
  async chargeback(orderId: string): Promise<string> {
    const payment = this.paymentOf(orderId);
    payment.chargeback_status = "pending";
    payment.chargeback_at = payment.chargeback_status_updated_at = this.options.now().toISOString();
    payment.status = "chargeback";
    this.orderOf(orderId).status = "chargeback";
    return this.emit("ON_CHARGEBACK", { ...payment, refunds: undefined });
  }

  /** Closes the order's chargeback as `won` or `lost` (`ON_CHARGEBACK_CLOSED`). */
  async closeChargeback(orderId: string, outcome: "won" | "lost"): Promise<string> {
    const payment = this.paymentOf(orderId);
    payment.chargeback_status = outcome;
    payment.chargeback_status_updated_at = this.options.now().toISOString();
    if (outcome === "won") {
      payment.status = "completed";
      this.orderOf(orderId).status = "completed";
    }
    return this.emit("ON_CHARGEBACK_CLOSED", { ...payment, refunds: undefined });
  }

  /** Sends a history entry's payload again, as PayNow's retry or resend would; history records the attempt. */
  async redeliver(eventId: string): Promise<number> {
    const item = this.history.find((entry) => entry.payload.event_id === eventId);
    if (!item) throw new Error(`no delivery of event ${eventId}`);
    return this.attempt(item, true);
  }

  private async emit(eventType: EventType, body: unknown): Promise<string> {
    const hook = this.webhooks.find((candidate) => candidate.event === eventType)!;
    const item: HistoryItem = {
      id: this.newId(),
      webhook_id: hook.id,
      created_at: this.options.now().toISOString(),
      state: "pending",
      next_retry: null,
      event: HISTORY_NAMES[eventType],
      payload: { event_type: eventType, event_id: this.newId(), body },
      executions: [],
    };
    this.history.push(item);
    await this.attempt(item, false);
    return item.payload.event_id;
  }

  private async attempt(item: HistoryItem, forced: boolean): Promise<number> {
    const started = this.options.now().toISOString();
    let status: number;
    if (!forced && this.dropping > 0) {
      this.dropping--;
      status = 503;
    } else {
      const hook = this.webhooks.find((candidate) => candidate.id === item.webhook_id)!;
      const rawBody = JSON.stringify(item.payload);
      const timestamp = this.options.now().getTime();
      status = await this.options.deliver(rawBody, {
        "content-type": "application/json",
        "paynow-signature": signPaynow(hook.secret, timestamp, rawBody),
        "paynow-timestamp": String(timestamp),
      });
    }
    item.executions.push({ started_at: started, finished_at: this.options.now().toISOString(), status_code: status, response: "" });
    item.state = status >= 200 && status < 300 ? "success" : "failed";
    return status;
  }

  private orderOf(orderId: string): FakeOrder {
    const order = this.orders.find((candidate) => candidate.id === orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    return order;
  }

  private paymentOf(orderId: string): FakePayment {
    const payment = this.payments.find((candidate) => candidate.order_id === orderId);
    if (!payment) throw new Error(`no payment of order ${orderId}`);
    return payment;
  }
}

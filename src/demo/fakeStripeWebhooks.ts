import Stripe from "stripe";
import type { FakeStripeAccount, StripeRecord } from "./fakeStripeAccount.js";

/** What happens to one event's webhook: sent, lost, sent twice, or held back and sent after the rest. */
export type DeliveryFate = "deliver" | "drop" | "twice" | "late";

/** Sends one signed delivery; answers the receiver's HTTP status. */
export type SendDelivery = (payload: string, signatureHeader: string) => Promise<number>;

/** Posts to a Reckon URL (`…/api/webhooks/stripe`) as Stripe does. */
export function postTo(url: string): SendDelivery {
  return async (payload, signatureHeader) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signatureHeader },
      body: payload,
    });
    await response.arrayBuffer();
    return response.status;
  };
}

/**
 * Stripe's webhook sender for a fake account: each event is signed with the official
 * package's `webhooks.generateTestHeaderString` and sent once, unless the fate chosen for
 * it says otherwise. An event whose delivery was dropped or not answered 2xx stays
 * undelivered, so `GET /v1/events?delivery_success=false` lists it, as Stripe's does.
 */
export class FakeStripeWebhooks {
  readonly #account: FakeStripeAccount;
  readonly #secret: string;
  readonly #send: SendDelivery;
  readonly #now: () => Date;
  readonly #signer = Stripe.webhooks;
  #sentUpTo = 0;
  #fate: (event: StripeRecord) => DeliveryFate = () => "deliver";

  constructor(account: FakeStripeAccount, options: { secret: string; send: SendDelivery; now?: () => Date }) {
    this.#account = account;
    this.#secret = options.secret;
    this.#send = options.send;
    this.#now = options.now ?? (() => new Date());
  }

  /** Chooses each later event's fate (the switch that loses, doubles or reorders deliveries). */
  decide(fate: (event: StripeRecord) => DeliveryFate): void {
    this.#fate = fate;
  }

  /**
   * Sends every event recorded since the last call, oldest first, with the "late" ones
   * after all others (so a refund can arrive before the purchase it refunds). Answers
   * the ids of the events that were not delivered.
   */
  async flush(): Promise<string[]> {
    const events = this.#account.records("events").slice(this.#sentUpTo);
    this.#sentUpTo += events.length;
    const late: StripeRecord[] = [];
    const lost: string[] = [];
    for (const event of events) {
      const fate = this.#fate(event);
      if (fate === "late") late.push(event);
      else if (fate === "drop") this.#account.markDelivery(event.id, "failed");
      else await this.#deliver(event, fate === "twice" ? 2 : 1);
    }
    for (const event of late) await this.#deliver(event, 1);
    for (const event of events) if (this.#account.deliveryState(event.id) !== "succeeded") lost.push(event.id);
    return lost;
  }

  /** Sends one event again (Stripe's retry, or a late delivery after a sync repaired it). */
  async redeliver(eventId: string): Promise<number> {
    const event = this.#account.find("events", eventId);
    if (!event) throw new Error(`no such event: ${eventId}`);
    return this.#deliver(event, 1);
  }

  async #deliver(event: StripeRecord, times: number): Promise<number> {
    let status = 0;
    for (let attempt = 0; attempt < times; attempt += 1) {
      const payload = JSON.stringify(event);
      const timestamp = Math.floor(this.#now().getTime() / 1000);
      const header = this.#signer.generateTestHeaderString({ payload, secret: this.#secret, timestamp });
      status = await this.#send(payload, header);
      if (status >= 200 && status < 300) this.#account.markDelivery(event.id, "succeeded");
      else if (this.#account.deliveryState(event.id) !== "succeeded") this.#account.markDelivery(event.id, "failed");
    }
    return status;
  }
}

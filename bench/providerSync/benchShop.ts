import type { Config } from "../../src/config.js";
import type { Provider } from "../../src/providers/PaymentEvent.js";
import type { PendingDelivery } from "../../src/webhooks/WebhookCommitQueue.js";

/** Points per unit and the price of a unit: the same for every provider, so every order credits the same. */
export const POINTS_PER_UNIT = 50;
export const PRICE_MINOR = 500;

/**
 * A fake provider selling points for the bench: its own API on loopback, its webhooks
 * kept in memory until `takeDeliveries` verifies them as Reckon's webhook route would.
 */
export interface BenchShop {
  provider: Provider;
  /** What Reckon's configuration needs to verify the shop's webhooks and read its API. */
  env: Record<string, string>;
  /** The catalogue id one unit is sold under (a PayNow product, a Stripe price). */
  catalogueId: string;
  /** Sells one unit to `uid`; when `lose`, the webhook that credits it is lost. Answers the lost event id. */
  sell(uid: string, lose: boolean): Promise<string | null>;
  /** The webhooks sent since the last call, signatures checked, ready for `storeDeliveries`. */
  takeDeliveries(config: Config): PendingDelivery[];
  /** Requests the shop's API answered so far. */
  apiRequests(): number;
  close(): Promise<void>;
}

export interface Sent {
  rawBody: Buffer;
  headers: Record<string, string>;
  at: Date;
}

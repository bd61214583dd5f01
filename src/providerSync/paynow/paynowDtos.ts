import { z } from "zod";

/**
 * PayNow Management API answers, as documented (../shared/PROVIDERS.md, "Reading the
 * provider's own records"). Only the fields provider sync reads are checked; the rest
 * pass through. Ids are flake ids longer than a JS number: strings of digits only.
 */
export const FlakeId = z.string().regex(/^\d{1,20}$/, "must be a flake id (digits)");
const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a timestamp");

export const OrderDto = z.looseObject({
  id: FlakeId,
  store_id: FlakeId.nullish(),
  customer_id: FlakeId.nullish(),
  status: z.enum(["created", "completed", "canceled", "refunded", "chargeback"]),
  currency: z.string().min(1).max(10),
  total_amount: MinorUnits,
  created_at: Timestamp.nullish(),
  completed_at: Timestamp.nullish(),
  lines: z.array(z.looseObject({ product_id: FlakeId, quantity: z.number().int().min(1).max(1_000_000) })),
});
export type OrderDto = z.infer<typeof OrderDto>;

export const RefundDto = z.looseObject({
  id: FlakeId,
  payment_id: FlakeId.nullish(),
  status: z.enum(["created", "approved", "processing", "completed", "canceled", "failed"]),
  amount: MinorUnits,
  store_refund_amount: MinorUnits,
  currency: z.string().nullish(),
  created_at: Timestamp.nullish(),
  completed_at: Timestamp.nullish(),
});

export const PaymentDto = z.looseObject({
  id: FlakeId,
  order_id: FlakeId,
  amount: MinorUnits,
  currency: z.string().nullish(),
  status: z.string().min(1).max(50),
  chargeback_status: z.enum(["none", "pending", "won", "lost"]).nullish(),
  chargeback_at: Timestamp.nullish(),
  refunds: z.array(RefundDto).nullish(),
});
export type PaymentDto = z.infer<typeof PaymentDto>;

export const WebhookSubscription = z.looseObject({ id: FlakeId });

export const HistoryEntry = z.looseObject({
  id: FlakeId,
  webhook_id: FlakeId.nullish(),
  created_at: Timestamp,
  state: z.enum(["success", "pending", "failed"]),
  event: z.string().nullish(),
  payload: z.union([z.string(), z.record(z.string(), z.unknown())]),
});

export const HistoryPage = z.looseObject({ page: z.number().int().min(0), history: z.array(z.unknown()) });

const PAYNOW_EPOCH_MS = 1645568542000n;

/** The Unix ms a PayNow Snowflake id was minted at. */
export function snowflakeTimeMs(id: string): number {
  return Number((BigInt(id) >> 22n) + PAYNOW_EPOCH_MS);
}

/** The smallest id minted at or after `timeMs` (ids of earlier times are all below it). */
export function firstSnowflakeAt(timeMs: number): bigint {
  const offset = BigInt(timeMs) - PAYNOW_EPOCH_MS;
  return offset <= 0n ? 0n : offset << 22n;
}

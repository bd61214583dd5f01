import { z } from "zod";
import { PROVIDERS, type Provider } from "../providers/PaymentEvent.js";

/**
 * Terminology: a *backfill* repairs the ledger from what providers said, through the
 * live code path; each run is a *migration* record (`data_migrations`) with its
 * counts, its cursor and its plan. `provider_sync` reads the provider's own records
 * for the range instead of Reckon's stored events (src/providerSync/).
 */
export const BACKFILL_TYPES = ["webhook_replay", "reversal_backfill", "provider_sync"] as const;
export type BackfillType = (typeof BACKFILL_TYPES)[number];

const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((value) => {
    const time = Date.parse(`${value}T00:00:00.000Z`);
    return !Number.isNaN(time) && new Date(time).toISOString().startsWith(value);
  }, "is not a real date");

/** The body of `POST /api/jobs/backfill`; the CLI builds the same object. */
export const BackfillBody = z.strictObject({
  type: z.enum(BACKFILL_TYPES, { error: `must be one of ${BACKFILL_TYPES.join(", ")}` }),
  startDate: IsoDate,
  endDate: IsoDate,
  dryRun: z.boolean().default(false),
  maxEvents: z.number({ error: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").optional(),
  /** The hash a dry run printed: apply only if the plan is still exactly that. */
  planHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "must be the 64-hex-digit hash a dry run returned")
    .optional(),
  /** Whose records a `provider_sync` reads; only with that type. */
  provider: z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(", ")}` }).optional(),
}).superRefine((body, ctx) => {
  if (body.type === "provider_sync" && body.provider === undefined) {
    ctx.addIssue({ code: "custom", path: ["provider"], message: "is required for provider_sync" });
  }
  if (body.type !== "provider_sync" && body.provider !== undefined) {
    ctx.addIssue({ code: "custom", path: ["provider"], message: "is only for provider_sync" });
  }
});
export type BackfillBodyInput = z.input<typeof BackfillBody>;

export interface BackfillRequest {
  type: BackfillType;
  startDate: string;
  endDate: string;
  dryRun: boolean;
  maxEvents: number;
  planHash: string | null;
  /** The provider a `provider_sync` reads; null for the other types. */
  provider?: Provider | null;
}

export interface BackfillLimits {
  maxRangeDays: number;
  maxEvents: number;
}

export type RangeCheck =
  | { ok: true; request: BackfillRequest }
  | { ok: false; problem: "end_before_start" | "range_too_long" | "in_the_future" | "too_many_events"; message: string };

const DAY_MS = 86_400_000;

/** Checks what a schema cannot: the range against the limits and today (UTC). */
export function checkBackfillRequest(body: z.output<typeof BackfillBody>, limits: BackfillLimits, now: Date): RangeCheck {
  const start = Date.parse(`${body.startDate}T00:00:00.000Z`);
  const end = Date.parse(`${body.endDate}T00:00:00.000Z`);
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00.000Z`);
  if (end < start) return { ok: false, problem: "end_before_start", message: "endDate is before startDate" };
  const days = (end - start) / DAY_MS + 1;
  if (days > limits.maxRangeDays) {
    return {
      ok: false,
      problem: "range_too_long",
      message: `the range spans ${days} days; at most ${limits.maxRangeDays} (BACKFILL_MAX_RANGE_DAYS)`,
    };
  }
  if (end > today) return { ok: false, problem: "in_the_future", message: "endDate is after today (UTC)" };
  const maxEvents = body.maxEvents ?? limits.maxEvents;
  if (maxEvents > limits.maxEvents) {
    return {
      ok: false,
      problem: "too_many_events",
      message: `maxEvents is at most ${limits.maxEvents} (BACKFILL_MAX_EVENTS)`,
    };
  }
  return {
    ok: true,
    request: {
      type: body.type,
      startDate: body.startDate,
      endDate: body.endDate,
      dryRun: body.dryRun,
      maxEvents,
      planHash: body.planHash ?? null,
      provider: body.provider ?? null,
    },
  };
}

/** The half-open time range `[start 00:00, end+1 00:00)` the dates name, as ISO strings. */
export function rangeOf(request: Pick<BackfillRequest, "startDate" | "endDate">): { from: string; to: string } {
  const to = new Date(Date.parse(`${request.endDate}T00:00:00.000Z`) + DAY_MS).toISOString();
  return { from: `${request.startDate}T00:00:00.000Z`, to };
}

import type { z } from "zod";
import type { Config } from "../config.js";
import { BackfillBody, checkBackfillRequest, type RangeCheck } from "./BackfillRequest.js";
import { startBackfill, type BackfillDeps, type StartOutcome } from "./startBackfill.js";

export type BackfillJobOutcome =
  | StartOutcome
  /** 503: BACKFILL_ENABLED=0; nothing was read or written. */
  | { outcome: "feature_disabled"; setting: "BACKFILL_ENABLED" }
  /** 400: the request is not a `BackfillBody`; `error` says where. */
  | { outcome: "invalid_request"; error: z.ZodError }
  /** 503: a provider sync of a provider with no API key configured; nothing was written. */
  | { outcome: "provider_not_configured"; provider: string }
  /** 400: the range or `maxEvents` is beyond the configured limits or today. */
  | { outcome: "beyond_limits"; problem: Extract<RangeCheck, { ok: false }>["problem"]; message: string };

/**
 * The backfill job as the route and the CLI start it: the feature flag, then the request
 * read as a `BackfillBody` and checked against the limits and today (UTC), then the run.
 * Nothing is written before every check has passed.
 */
export async function backfillJob(deps: BackfillDeps, config: Config, input: unknown): Promise<BackfillJobOutcome> {
  if (!config.features.backfillEnabled) return { outcome: "feature_disabled", setting: "BACKFILL_ENABLED" };
  const parsed = BackfillBody.safeParse(input);
  if (!parsed.success) return { outcome: "invalid_request", error: parsed.error };
  const checked = checkBackfillRequest(parsed.data, config.backfill, deps.now());
  if (!checked.ok) return { outcome: "beyond_limits", problem: checked.problem, message: checked.message };
  const { provider } = checked.request;
  if (checked.request.type === "provider_sync" && provider && !deps.sync?.clientFor(provider)) return { outcome: "provider_not_configured", provider };
  return startBackfill(deps, checked.request);
}

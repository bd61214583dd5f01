import type { BackfillJobOutcome } from "../backfill/backfillJob.js";
import type { ReplayOutcome } from "../backfill/replayEvent.js";
import type { AdjustmentOutcome } from "../ledger/adjustWallet.js";
import type { ReverseOutcome } from "../ledger/reverseEntry.js";
import type { SpendOutcome } from "../ledger/spendPoints.js";
import type { EntryKind } from "../ledger/types.js";
import type { SignatureFailure } from "../providers/SignatureCheck.js";
import type { ReconcileJobOutcome } from "../reconcile/reconcileJob.js";
import type { IngestOutcome } from "../webhooks/ingestDelivery.js";
import { AppError, type ErrorCode } from "./errors.js";
import { bodyRefusal } from "./input.js";

/** Every outcome a route's operation can return. */
type RouteOutcome = SpendOutcome | AdjustmentOutcome | ReverseOutcome | ReconcileJobOutcome | IngestOutcome | BackfillJobOutcome | ReplayOutcome;

/** The outcomes a route answers with 2xx and a body of its own. */
type Answered = { outcome: "posted" | "completed" | "shared" | "stored" | "started" | "replayed" };

/** The outcomes a route answers with an error. */
export type Refusal = Exclude<RouteOutcome, Answered>;
export type RefusalName = Refusal["outcome"];

/** A signature failure's error code: each is a 401 of its own, so a sender can tell what to fix. */
const SIGNATURE_CODES: Record<SignatureFailure, { code: ErrorCode; message: string }> = {
  signature_missing: { code: "webhook_signature_missing", message: "the signature or timestamp header is missing" },
  signature_malformed: { code: "webhook_signature_malformed", message: "the signature header is not in the provider's format" },
  signature_mismatch: { code: "webhook_signature_invalid", message: "the signature does not match any configured secret" },
  timestamp_too_old: { code: "webhook_timestamp_too_old", message: "the signature is older than five minutes" },
  timestamp_in_future: { code: "webhook_timestamp_in_future", message: "the signature is dated more than five minutes ahead" },
};

/** A heal is undone only by reverting its run, which keeps the wallet where the heal left it. */
function notReversibleMessage(kind: EntryKind): string {
  if (kind === "reconcile_adjustment") {
    return "a reconciliation adjustment is undone only by reverting its run (reckon reconcile revert --date D)";
  }
  return `an entry of kind ${kind} cannot be reversed`;
}

const DISABLED: Record<Extract<Refusal, { outcome: "feature_disabled" }>["setting"], string> = {
  RECONCILIATION_ENABLED: "reconciliation is disabled (RECONCILIATION_ENABLED=0)",
  BACKFILL_ENABLED: "backfill is disabled (BACKFILL_ENABLED=0)",
};

/**
 * The one table from a refused outcome to the error that answers it: its code (whose
 * status `ERROR_STATUS` declares, once), its message and its details. The table is
 * typed over every refusal of every route's operation, so an outcome added to one of
 * them does not compile until it has a row here.
 */
export const REFUSALS: { [K in RefusalName]: (outcome: Extract<Refusal, { outcome: K }>) => AppError } = {
  insufficient_points: (o) => new AppError("insufficient_points", `the wallet holds ${o.available} points`, { available: o.available }),
  out_of_range: (o) => new AppError("balance_out_of_range", `the entry would take the balance beyond ±${o.limit} points`, { limit: o.limit }),
  key_reused: () => new AppError("idempotency_key_reused", "this Idempotency-Key was used with a different request"),
  adjustments_frozen: () => new AppError("adjustments_frozen", "manual adjustments are frozen (runtime flag adjustments_frozen)"),
  entry_not_found: () => new AppError("entry_not_found", "no entry with that id"),
  nothing_to_reverse: () => new AppError("nothing_to_reverse", "the entry is already fully reversed"),
  exceeds_original: (o) =>
    new AppError("exceeds_original", `only ${o.remaining} points of the entry remain to reverse`, { remaining: o.remaining }),
  not_reversible: (o) => new AppError("entry_not_reversible", notReversibleMessage(o.kind), { kind: o.kind }),
  in_progress: (o) => new AppError("reconciliation_in_progress", "a reconciliation run for this date is in progress", { runId: o.runId }),
  feature_disabled: (o) => new AppError("feature_disabled", DISABLED[o.setting]),
  invalid_date: (o) => new AppError("invalid_date", o.check.message, { reason: o.check.reason }),
  signature_refused: (o) => new AppError(SIGNATURE_CODES[o.failure].code, SIGNATURE_CODES[o.failure].message),
  livemode_mismatch: (o) =>
    new AppError("livemode_mismatch", o.livemode ? "a live-mode event was sent to a test instance" : "a test-mode event was sent to a prod instance"),
  not_configured: () => new AppError("webhook_not_configured", "no webhook secret is configured for this provider"),
  not_stored: () => new AppError("webhook_not_stored", "the delivery could not be stored now and was not acknowledged; send it again"),
  invalid_request: (o) => bodyRefusal(o.error),
  beyond_limits: (o) =>
    o.problem === "too_many_events"
      ? new AppError("invalid_body", `maxEvents: ${o.message}`, { field: "maxEvents" })
      : new AppError("invalid_range", o.message),
  already_running: (o) => new AppError("backfill_running", `backfill ${o.runningId} of this type is running`, { migrationId: o.runningId }),
  plan_changed: (o) =>
    new AppError("plan_changed", "the plan computed now differs from the approved one; nothing was applied", {
      expected: o.expected,
      actual: o.actual,
      migrationId: o.record.id,
    }),
  provider_not_configured: (o) =>
    new AppError("provider_sync_not_configured", `no API key is configured for ${o.provider} (provider sync reads the provider's own records)`, { provider: o.provider }),
  event_not_found: () => new AppError("event_not_found", "no stored event has that id"),
  not_replayable: (o) =>
    new AppError("event_not_replayable", `the event is ${o.status}; only received, failed and parked events are replayed`, { status: o.status }),
};

/** The error that answers a refused outcome (`REFUSALS`). */
export function refusal(outcome: Refusal): AppError {
  const answer = REFUSALS[outcome.outcome] as (refused: Refusal) => AppError;
  return answer(outcome);
}

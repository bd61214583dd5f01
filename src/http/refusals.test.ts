import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BackfillBody } from "../backfill/BackfillRequest.js";
import type { BackfillRun } from "../backfill/backfillRuns.js";
import { AppError, ERROR_STATUS, type ErrorCode } from "./errors.js";
import { refusal, REFUSALS, type Refusal, type RefusalName } from "./refusals.js";

/** The documented table: code -> status, read from the decision file the operators read. */
function documentedStatuses(): Map<string, number> {
  const text = readFileSync(new URL("../../docs/decisions/http-statuses.md", import.meta.url), "utf8");
  const rows = [...text.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)];
  return new Map(rows.map(([, code, status]) => [code!, Number(status)]));
}

const zodError = BackfillBody.safeParse({ type: "full_rebuild" }).error!;

/**
 * At least one of every refused outcome, as the operations return them. Typed over every
 * refusal name, so an outcome added to an operation fails to compile here until it has a sample.
 */
const SAMPLES: { [K in RefusalName]: Extract<Refusal, { outcome: K }>[] } = {
  insufficient_points: [{ outcome: "insufficient_points", available: 3 }],
  out_of_range: [{ outcome: "out_of_range", limit: 1_000_000_000_000_000 }],
  key_reused: [{ outcome: "key_reused" }],
  adjustments_frozen: [{ outcome: "adjustments_frozen" }],
  entry_not_found: [{ outcome: "entry_not_found" }],
  nothing_to_reverse: [{ outcome: "nothing_to_reverse" }],
  exceeds_original: [{ outcome: "exceeds_original", remaining: 4 }],
  not_reversible: [
    { outcome: "not_reversible", kind: "reconcile_adjustment" },
    { outcome: "not_reversible", kind: "reversal" },
  ],
  in_progress: [{ outcome: "in_progress", runId: 7 }],
  feature_disabled: [
    { outcome: "feature_disabled", setting: "RECONCILIATION_ENABLED" },
    { outcome: "feature_disabled", setting: "BACKFILL_ENABLED" },
  ],
  invalid_date: [{ outcome: "invalid_date", check: { ok: false, reason: "future", message: "the date is in the future" } }],
  signature_refused: (["signature_missing", "signature_malformed", "signature_mismatch", "timestamp_too_old", "timestamp_in_future"] as const).map(
    (failure) => ({ outcome: "signature_refused", failure }),
  ),
  livemode_mismatch: [
    { outcome: "livemode_mismatch", livemode: true },
    { outcome: "livemode_mismatch", livemode: false },
  ],
  not_configured: [{ outcome: "not_configured" }],
  not_stored: [{ outcome: "not_stored" }],
  invalid_request: [{ outcome: "invalid_request", error: zodError }],
  beyond_limits: (["end_before_start", "range_too_long", "in_the_future", "too_many_events"] as const).map((problem) => ({
    outcome: "beyond_limits",
    problem,
    message: `refused: ${problem}`,
  })),
  already_running: [{ outcome: "already_running", runningId: "bf_1" }],
  plan_changed: [{ outcome: "plan_changed", expected: "a".repeat(64), actual: "b".repeat(64), record: { id: "bf_2" } as BackfillRun }],
  provider_not_configured: [{ outcome: "provider_not_configured", provider: "paynow" }],
  event_not_found: [{ outcome: "event_not_found" }],
  not_replayable: [
    { outcome: "not_replayable", status: "processed" },
    { outcome: "not_replayable", status: "ignored" },
  ],
};

const samples = Object.values(SAMPLES).flat() as Refusal[];

describe("one table from refused outcomes to error codes and statuses", () => {
  it("has a row for every refused outcome, and a sample of each row is tested", () => {
    expect(Object.keys(REFUSALS).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it("answers every refused outcome with a declared code, never a 500, with the status the decision file gives it", () => {
    const documented = documentedStatuses();
    for (const sample of samples) {
      const error = refusal(sample);
      expect(error, sample.outcome).toBeInstanceOf(AppError);
      expect(Object.hasOwn(ERROR_STATUS, error.code), `${sample.outcome} -> ${error.code}`).toBe(true);
      expect(error.status, `${sample.outcome} -> ${error.code}`).toBeGreaterThanOrEqual(400);
      expect(error.status, `${sample.outcome} -> ${error.code}`).not.toBe(500);
      expect(documented.get(error.code), `${error.code} is not in docs/decisions/http-statuses.md`).toBe(error.status);
      expect(error.message.length, `${sample.outcome} has no message`).toBeGreaterThan(0);
    }
  });

  it("documents every error code a route can answer with, at the status it answers", () => {
    const documented = documentedStatuses();
    for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
      expect(documented.get(code), `${code} is not in docs/decisions/http-statuses.md`).toBe(status);
    }
    expect([...documented.keys()].filter((code) => !Object.hasOwn(ERROR_STATUS, code))).toEqual([]);
  });

  it("keeps each refusal's details: what the client needs to act on it", () => {
    expect(refusal({ outcome: "insufficient_points", available: 3 }).toBody()).toEqual({
      error: { code: "insufficient_points", message: "the wallet holds 3 points", available: 3 },
    });
    expect(refusal({ outcome: "beyond_limits", problem: "too_many_events", message: "maxEvents is at most 5" }).toBody()).toEqual({
      error: { code: "invalid_body", message: "maxEvents: maxEvents is at most 5", field: "maxEvents" },
    });
    expect(refusal({ outcome: "beyond_limits", problem: "in_the_future", message: "endDate is after today (UTC)" }).code).toBe("invalid_range");
    expect(refusal({ outcome: "invalid_request", error: zodError }).toBody()).toEqual({
      error: { code: "invalid_body", message: expect.stringMatching(/^type: /), field: "type" },
    });
    expect(refusal({ outcome: "signature_refused", failure: "signature_mismatch" }).code).toBe("webhook_signature_invalid");
  });
});

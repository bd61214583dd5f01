/**
 * The one table of error codes and the status each answers with. Every error a
 * client can see is `{ "error": { "code", "message", ...details } }` with a code from here.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_body: 400,
  unknown_field: 400,
  invalid_uid: 400,
  invalid_entry_id: 400,
  invalid_query: 400,
  invalid_path: 400,
  invalid_cursor: 400,
  missing_idempotency_key: 400,
  invalid_idempotency_key: 400,
  nul_character: 400,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  wallet_not_found: 404,
  entry_not_found: 404,
  method_not_allowed: 405,
  idempotency_key_reused: 409,
  insufficient_points: 409,
  nothing_to_reverse: 409,
  exceeds_original: 409,
  entry_not_reversible: 409,
  balance_out_of_range: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  adjustments_frozen: 423,
  rate_limited: 429,
  internal_error: 500,
  not_ready: 503,
  feature_disabled: 503,
  writes_suspended: 503,
  invalid_range: 400,
  invalid_migration_id: 400,
  migration_not_found: 404,
  backfill_running: 409,
  plan_changed: 409,
  webhook_signature_missing: 401,
  webhook_signature_malformed: 401,
  webhook_signature_invalid: 401,
  webhook_timestamp_too_old: 401,
  webhook_timestamp_in_future: 401,
  livemode_mismatch: 403,
  webhook_not_configured: 503,
  webhook_not_stored: 503,
  invalid_provider: 400,
  invalid_product_id: 400,
  oidc_not_configured: 401,
  oidc_malformed_token: 401,
  oidc_unsigned_token: 401,
  oidc_algorithm_not_allowed: 401,
  oidc_invalid_signature: 401,
  oidc_unknown_key: 401,
  oidc_issuer_mismatch: 401,
  oidc_audience_mismatch: 401,
  oidc_token_expired: 401,
  oidc_token_not_yet_valid: 401,
  oidc_missing_claim: 401,
  oidc_invalid_claims: 401,
  oidc_subject_not_allowed: 401,
  oidc_email_not_verified: 401,
  oidc_keys_unavailable: 503,
  unknown_flag: 404,
  handler_timeout: 503,
  invalid_date: 400,
  report_not_found: 404,
  reconciliation_in_progress: 409,
  csrf_missing: 403,
  csrf_invalid: 403,
  cross_site_request: 403,
  invalid_event_id: 400,
  event_not_found: 404,
  event_not_replayable: 409,
  provider_sync_not_configured: 503,
  invalid_finding_id: 400,
  finding_not_found: 404,
  finding_not_open: 409,
  uid_required: 400,
  finding_not_applied: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Why `writes_suspended` answers: the same words on a refused write and on the health routes. */
export const WRITES_SUSPENDED = "an fsync of the database's write-ahead log failed; writes are refused until the service restarts (retry later)";

/** An expected refusal, answered with its code's status. Never used for bugs. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody() {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** Errors raised by fastify itself before a handler runs, by their fastify code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_BAD_URL: "bad_request",
  FST_ERR_MAX_PARAM_LENGTH: "invalid_path",
  FST_ERR_HANDLER_TIMEOUT: "handler_timeout",
};

/**
 * Errors of Reckon's own that no route refuses as an outcome, by their `code`: they can
 * come from any write, below every route.
 */
const OWN_CODES: Record<string, ErrorCode> = {
  // `WalSyncError`: an fsync of SQLite's log failed; writes are refused until restart (`LogSyncLatch`).
  RECKON_WAL_SYNC_FAILED: "writes_suspended",
};

/** Turns anything thrown while serving a request into the AppError that answers it. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const candidate = error as { code?: string; statusCode?: number; message?: string; name?: string };
  const mapped = candidate.code ? (FASTIFY_CODES[candidate.code] ?? OWN_CODES[candidate.code]) : undefined;
  if (mapped) return new AppError(mapped, describe(mapped));
  if (candidate.name === "SyntaxError" && candidate.statusCode === 400) {
    return new AppError("invalid_json", describe("invalid_json"));
  }
  if (typeof candidate.statusCode === "number" && candidate.statusCode >= 400 && candidate.statusCode < 500) {
    return new AppError("bad_request", "the request could not be read");
  }
  return new AppError("internal_error", "internal error");
}

function describe(code: ErrorCode): string {
  switch (code) {
    case "invalid_json":
      return "the body is not valid JSON";
    case "body_too_large":
      return "the body is larger than this route accepts";
    case "unsupported_media_type":
      return "send the body as application/json";
    case "handler_timeout":
      return "the request took too long; retry later";
    case "writes_suspended":
      return WRITES_SUSPENDED;
    default:
      return "the request could not be read";
  }
}

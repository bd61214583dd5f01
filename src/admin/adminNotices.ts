import { z } from "zod";
import { readFlag, RUNTIME_FLAGS } from "../flags/runtimeFlags.js";
import { isRuntimeFlagName } from "../flags/setFlag.js";
import { ERROR_STATUS, type ErrorCode } from "../http/errors.js";
import { parseQuery } from "../http/input.js";
import type { Db } from "../storage/openDatabase.js";
import { readFinding } from "../providerSync/storeFindings.js";
import { readEventSummary } from "../webhooks/listStuckEvents.js";
import type { SafeHtml } from "./templates/html.js";
import { banner } from "./templates/layout.js";

/** What a redirect after a form post may say: a code and the id it concerns, never free text. */
export const NoticeQuery = z.strictObject({
  done: z.enum(["replayed", "adjusted", "flag", "resolved"]).optional(),
  refused: z.string().max(64).optional(),
  event: z.string().regex(/^\d{1,16}$/).optional(),
  entry: z.string().regex(/^\d{1,16}$/).optional(),
  name: z.string().max(64).optional(),
  finding: z.string().regex(/^pf_[A-Za-z0-9_]{1,64}$/).optional(),
});

/**
 * The words for the refusals a form on the page can meet. The redirect carries only the
 * code, so a crafted link cannot put its own text on the page.
 */
const REFUSALS: Partial<Record<ErrorCode, string>> = {
  adjustments_frozen: "manual adjustments are frozen (runtime flag adjustments_frozen); nothing was posted",
  insufficient_points: "the wallet does not hold enough points for that debit; nothing was posted",
  balance_out_of_range: "the adjustment would take the balance beyond ±10^15 points; nothing was posted",
  idempotency_key_reused: "this form was already submitted with other values; reload the page to post another adjustment",
  invalid_body: "a field of the form is missing or not valid; nothing was changed",
  unknown_field: "the form sent a field this action does not take; nothing was changed",
  csrf_missing: "the form carried no CSRF token; reload the page and try again",
  csrf_invalid: "the form's CSRF token does not belong to this session; reload the page and try again",
  cross_site_request: "the action was not sent from this page; nothing was changed",
  event_not_found: "no stored event has that id",
  event_not_replayable: "the event is already processed or ignored; nothing to replay",
  invalid_event_id: "an event id is a positive whole number",
  unknown_flag: "no runtime flag has that name",
  invalid_finding_id: "a finding id is pf_ and letters, digits or _",
  finding_not_found: "no provider finding has that id; nothing was changed",
  finding_not_open: "the finding is no longer open (resolved, repaired or a standing report); nothing was changed",
  uid_required: "a credit needs a user id of 1-128 letters, digits and ._:@-; nothing was changed",
  finding_not_applied: "the ledger did not apply it (an unknown product, a purchase already credited, or the finding was closed meanwhile); nothing was changed",
  invalid_uid: "a user id is 1-128 letters, digits and ._:@-",
  unauthenticated: "the token is not valid (unknown, revoked or expired); log in again",
  forbidden: "this token does not have the admin role",
  rate_limited: "too many failed logins from this address; wait a minute and try again",
};

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, code);
}

/** The banner for a page reached by a redirect after a form post, read back from the database. */
export async function readNotice(db: Db, query: unknown): Promise<SafeHtml | null> {
  const notice = parseQuery(NoticeQuery, query);
  if (notice.refused !== undefined) {
    if (!isErrorCode(notice.refused)) return banner("refused", "the action was refused");
    return banner("refused", REFUSALS[notice.refused] ?? "the action was refused; nothing was changed", notice.refused);
  }
  switch (notice.done) {
    case "replayed": {
      const event = notice.event === undefined ? null : await readEventSummary(db.kysely, Number(notice.event));
      if (!event) return null;
      const why = event.failureReason ?? (event.waitingFor ? `waiting for ${event.waitingFor}` : null);
      return banner("done", `Event #${event.id} (${event.provider} ${event.eventId}) replayed: now ${event.status}${why ? ` (${why})` : ""}.`);
    }
    case "adjusted":
      return notice.entry === undefined ? null : banner("done", `Adjustment posted as entry #${notice.entry}.`);
    case "flag": {
      if (notice.name === undefined || !isRuntimeFlagName(notice.name)) return null;
      const value = await readFlag(db.kysely, notice.name);
      return banner("done", `${notice.name} is now ${value ? "on" : "off"}${value === RUNTIME_FLAGS[notice.name].default ? " (its default)" : ""}.`);
    }
    case "resolved": {
      const finding = notice.finding === undefined ? null : await readFinding(db.kysely, notice.finding);
      if (!finding) return null;
      const credited = finding.detail["credit"] && finding.uid ? ` Credited to ${finding.uid}.` : "";
      return banner("done", `Finding ${finding.id} (${finding.provider} ${finding.kind} ${finding.subject}) is now ${finding.status}.${credited}`);
    }
    case undefined:
      return null;
    default: {
      const never: never = notice.done;
      throw new Error(`unhandled notice ${JSON.stringify(never)}`);
    }
  }
}

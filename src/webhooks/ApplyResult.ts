import type { ReversalPolicy } from "../config.js";

/** Why a stored event could not be applied; kept on the event, which stays replayable. */
export type FailureReason =
  | "invalid_payload"
  | "unknown_user"
  | "unknown_product"
  | "original_not_found"
  | "ledger_conflict"
  /** The credit would take the wallet or the user's ledger sum beyond the exact range; replay it once there is room. */
  | "balance_out_of_range"
  | "internal_error";

/** What applying one stored event did; becomes the event's status. */
export type ApplyResult =
  /** Applied (or found already applied). `landed` are references other events may wait for. */
  | { status: "processed"; landed: string[] }
  /** A type or state we do not act on. */
  | { status: "ignored"; reason: string }
  /** Arrived before what it refers to; applied when `waitingFor` lands. */
  | { status: "parked"; waitingFor: string }
  | { status: "failed"; reason: FailureReason; detail: string };

export interface ApplyContext {
  /** The clock of this application: the delivery's arrival, or the replay's time. */
  now: Date;
  reversalPolicy: ReversalPolicy;
  /** `provider:event_id` of the event being applied, written on every entry it causes. */
  sourceRef: string;
}

export const failed = (reason: FailureReason, detail: string): ApplyResult => ({ status: "failed", reason, detail });

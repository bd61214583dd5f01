import { UID_PATTERN } from "../http/input.js";
import { MAX_BALANCE_POINTS } from "../ledger/balanceRange.js";
import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import type { ProblemCode } from "./LegacyRecord.js";

/**
 * The checks every legacy line passes, whatever its format: the same rules the API
 * applies to what it accepts, so an imported user is one the API could have served.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; code: ProblemCode; problem: string };

const fail = (code: ProblemCode, problem: string): { ok: false; code: ProblemCode; problem: string } => ({ ok: false, code, problem });

/** An integer written as digits alone: no fraction, no exponent, no leading zeros. */
const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Entry ids: 1–200 characters, none of them a control character. */
const ENTRY_ID = /^[^\u0000-\u001f\u007f]{1,200}$/u;
const MAX_NOTE_LENGTH = 500;

export function checkUid(value: unknown): Checked<string> {
  if (value === undefined || value === null) return fail("missing_uid", "uid is missing");
  if (typeof value === "string" && value.includes("\u0000")) return fail("nul_character", "uid contains a NUL character");
  if (typeof value !== "string" || !UID_PATTERN.test(value)) {
    return fail("invalid_uid", "uid must be 1-128 characters of letters, digits and ._:@-");
  }
  return { ok: true, value };
}

/** Reads an integer from its exact text, so nothing is rounded on the way. */
function integerFrom(text: string, field: string, code: ProblemCode): Checked<number> {
  if (!INTEGER_TEXT.test(text)) return fail(code, `${field} must be a whole number, got ${JSON.stringify(text.slice(0, 40))}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) return fail(code, `${field} is too large: ${text.slice(0, 40)}`);
  return { ok: true, value };
}

/** A wallet's balance: a whole number from 0 to MAX_BALANCE_POINTS. */
export function checkWalletPoints(text: string): Checked<number> {
  const read = integerFrom(text, "points", "invalid_points");
  if (!read.ok) return read;
  if (read.value < 0) return fail("invalid_points", `points must not be negative, got ${read.value}`);
  if (read.value > MAX_BALANCE_POINTS) return fail("invalid_points", `points must be at most ${MAX_BALANCE_POINTS}, got ${read.value}`);
  return read;
}

/** An entry's signed amount: a whole number, not zero, within ±MAX_ENTRY_POINTS. */
export function checkAmount(text: string): Checked<number> {
  const read = integerFrom(text, "amount", "invalid_amount");
  if (!read.ok) return read;
  if (read.value === 0) return fail("invalid_amount", "amount must not be zero");
  if (Math.abs(read.value) > MAX_ENTRY_POINTS) return fail("invalid_amount", `amount must be within ±${MAX_ENTRY_POINTS}, got ${read.value}`);
  return read;
}

export function checkEntryId(value: unknown): Checked<string> {
  if (typeof value === "string" && value.includes("\u0000")) return fail("nul_character", "id contains a NUL character");
  if (typeof value !== "string" || !ENTRY_ID.test(value)) return fail("invalid_id", "id must be 1-200 characters, none of them a control character");
  return { ok: true, value };
}

/** An ISO-8601 time with its zone, not after `now`; returned in Reckon's form (UTC, milliseconds). */
export function checkTime(value: unknown, now: Date): Checked<string> {
  if (typeof value !== "string" || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    return fail("invalid_time", "the entry's time must be an ISO-8601 time with its zone, e.g. 2025-01-31T12:00:00Z");
  }
  const at = new Date(value);
  if (at.getTime() > now.getTime()) return fail("invalid_time", `the entry's time ${value} is in the future`);
  return { ok: true, value: at.toISOString() };
}

export function checkNote(value: unknown): Checked<string | null> {
  if (value === undefined || value === null) return { ok: true, value: null };
  if (typeof value === "string" && value.includes("\u0000")) return fail("nul_character", "note contains a NUL character");
  if (typeof value !== "string" || value.length > MAX_NOTE_LENGTH) return fail("invalid_note", `note must be text of at most ${MAX_NOTE_LENGTH} characters`);
  return { ok: true, value: value === "" ? null : value };
}

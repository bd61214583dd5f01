import { z } from "zod";
import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import { AppError } from "./errors.js";

/** A user id as the app gives it: 1–128 characters of letters, digits and `._:@-`. */
export const UID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
/** An Idempotency-Key: 1–200 visible ASCII characters. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export const Points = z
  .number({ error: "must be a number" })
  .int("must be a whole number of points")
  .min(1, "must be at least 1")
  .max(MAX_ENTRY_POINTS, `must be at most ${MAX_ENTRY_POINTS}`);

export const SignedPoints = z
  .number({ error: "must be a number" })
  .int("must be a whole number of points")
  .min(-MAX_ENTRY_POINTS, `must be at least -${MAX_ENTRY_POINTS}`)
  .max(MAX_ENTRY_POINTS, `must be at most ${MAX_ENTRY_POINTS}`)
  .refine((value) => value !== 0, "must not be zero");

export const Reason = z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters");

/** The query of a route that takes none: any parameter is refused. */
export const NoQuery = z.strictObject({});

/** Validates a JSON body against a strict schema; unknown fields are refused by name. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  // Checked before the schema too, for a schema that would take something other than an object.
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("invalid_body", "the body must be a JSON object");
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw bodyRefusal(parsed.error);
}

/** How a body that failed its schema is refused: unknown fields by name, otherwise the first problem's field. */
export function bodyRefusal(error: z.ZodError): AppError {
  const unknown = error.issues.find((issue) => issue.code === "unrecognized_keys");
  if (unknown && unknown.code === "unrecognized_keys") {
    return new AppError("unknown_field", `unknown field(s): ${unknown.keys.join(", ")}`, { fields: unknown.keys });
  }
  const first = error.issues[0]!;
  if (first.path.length === 0 && first.code === "invalid_type") return new AppError("invalid_body", "the body must be a JSON object");
  const field = first.path.join(".") || "body";
  return new AppError("invalid_body", `${field}: ${first.message}`, { field });
}

export function parseUid(value: unknown): string {
  if (typeof value !== "string" || !UID_PATTERN.test(value)) {
    throw new AppError("invalid_uid", "uid must be 1-128 characters of letters, digits and ._:@-");
  }
  return value;
}

export function parseIdempotencyKey(headers: Record<string, unknown>): string {
  const value = headers["idempotency-key"];
  if (value === undefined) {
    throw new AppError("missing_idempotency_key", "this route requires an Idempotency-Key header");
  }
  if (typeof value !== "string" || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new AppError("invalid_idempotency_key", "Idempotency-Key must be 1-200 visible ASCII characters");
  }
  return value;
}

/** A positive database id given in a path. */
export function parseEntryId(value: unknown): number {
  if (typeof value !== "string" || !/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new AppError("invalid_entry_id", "entry id must be a positive integer");
  }
  return Number(value);
}

/** Validates a query string against a strict schema. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  throw new AppError("invalid_query", `${first.path.join(".") || "query"}: ${first.message}`);
}

/** What a route reads from a request: every place outside text can come in. */
export interface RequestInput {
  params: unknown;
  query: unknown;
  headers: unknown;
  body: unknown;
}

/**
 * Refuses U+0000 anywhere in a request's text: path parameters, query, headers, and
 * every key and string of a JSON body. PostgreSQL `text` cannot hold it (SQLite can,
 * so the engines would disagree), and no Reckon input has a use for it. `buildApp`
 * calls this for every JSON route before its handler runs, so no route can forget it.
 * The walk keeps its own stack: a deeply nested body must not overflow the call stack.
 */
export function refuseNul(request: RequestInput): void {
  const pending: [string, unknown][] = [
    ["params", request.params],
    ["query", request.query],
    ["headers", request.headers],
    ["body", request.body],
  ];
  while (pending.length > 0) {
    const [path, value] = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) throw nulRefusal(path);
    } else if (typeof value === "object" && value !== null && !Buffer.isBuffer(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes("\u0000")) throw nulRefusal(path);
        pending.push([`${path}.${key}`, child]);
      }
    }
  }
}

function nulRefusal(path: string): AppError {
  return new AppError("nul_character", `${path}: must not contain the NUL character (U+0000)`, { field: path });
}

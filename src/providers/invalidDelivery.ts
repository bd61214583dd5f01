import { createHash } from "node:crypto";
import type { z } from "zod";
import type { ReadDelivery } from "./PaymentEvent.js";

/**
 * A signed body we cannot read still has to be stored (and acknowledged): it is
 * filed under the hash of its bytes (never of a decoded text, which two different
 * bodies can share), so only a redelivery of the same bytes is a duplicate.
 */
export function invalidDelivery(rawBody: Uint8Array, eventType: unknown, detail: string): ReadDelivery {
  return {
    eventId: `sha256:${createHash("sha256").update(rawBody).digest("hex")}`,
    eventType: typeof eventType === "string" && eventType.length <= 200 && !eventType.includes("\u0000") ? eventType : "unknown",
    livemode: null,
    event: { kind: "invalid_payload", detail },
  };
}

/** Refuses bytes that are not UTF-8 instead of replacing them, which would hide what was sent. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes and parses a body without throwing: its JSON value, or why it has none. */
export function parseJson(rawBody: Uint8Array): { json: unknown } | { problem: string } {
  let text: string;
  try {
    text = UTF8.decode(rawBody);
  } catch {
    return { problem: "body is not valid UTF-8" };
  }
  try {
    return { json: JSON.parse(text) as unknown };
  } catch {
    return { problem: "body is not valid JSON" };
  }
}

/** A zod failure as one line: the first problem and where it is. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid";
  return `${first.path.join(".") || "body"}: ${first.message}`;
}

/** Validates an event body and turns it into a PaymentEvent, or an invalid payload naming the problem. */
export function parsePayload<T extends z.ZodType>(
  schema: T,
  body: unknown,
  toEvent: (value: z.infer<T>) => ReadDelivery["event"],
): ReadDelivery["event"] {
  const result = schema.safeParse(body);
  if (!result.success) return { kind: "invalid_payload", detail: `data.${describeIssue(result.error)}` };
  return toEvent(result.data);
}

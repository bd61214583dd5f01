import { createHash } from "node:crypto";
import type { z } from "zod";
import type { ReadDelivery } from "./PaymentEvent.js";

/**
 * A signed body we cannot read still has to be stored (and acknowledged): it is
 * filed under the hash of its bytes, so a redelivery of the same bytes is a duplicate.
 */
export function invalidDelivery(rawBody: string, eventType: unknown, detail: string): ReadDelivery {
  return {
    eventId: `sha256:${createHash("sha256").update(rawBody).digest("hex")}`,
    eventType: typeof eventType === "string" && eventType.length <= 200 ? eventType : "unknown",
    livemode: null,
    event: { kind: "invalid_payload", detail },
  };
}

/** Parses JSON without throwing; `undefined` means the text is not JSON. */
export function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    return undefined;
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

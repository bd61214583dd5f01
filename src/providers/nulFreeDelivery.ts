import { invalidDelivery } from "./invalidDelivery.js";
import type { ReadDelivery } from "./PaymentEvent.js";

/**
 * Every string a read delivery carries can reach the database (an event id, a type,
 * a product id in a catalogue lookup, a reason), and PostgreSQL `text` cannot hold
 * U+0000. A delivery with NUL in any of them is read instead as an invalid payload
 * filed under the hash of its bytes: it is stored as failed and acknowledged, never
 * a failed insert and a 500. `readStoredDelivery` applies this to every provider's
 * reader, so a field added to a reader later is covered without a change here.
 */
export function nulFreeDelivery(read: ReadDelivery, rawBody: Uint8Array): ReadDelivery {
  const field = nulField(read, "");
  if (field === null) return read;
  return invalidDelivery(rawBody, read.eventType, `${field} holds a NUL character (U+0000), which the database cannot store`);
}

/** The path of the first string (or key) holding NUL; the shapes are Reckon's own, so shallow. */
function nulField(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (typeof value !== "object" || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    if (key.includes("\u0000")) return path || "key";
    const found = nulField(child, childPath);
    if (found !== null) return found;
  }
  return null;
}

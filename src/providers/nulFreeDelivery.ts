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
  // The common case is checked without building paths: this runs on every acknowledged delivery.
  if (!holdsNul(read)) return read;
  return invalidDelivery(rawBody, read.eventType, `${nulPath(read, "")} holds a NUL character (U+0000), which the database cannot store`);
}

/** Whether any string or key holds NUL; the shapes are Reckon's own, so shallow. */
function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsNul);
  for (const key in value) {
    if (key.includes("\u0000") || holdsNul((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Where the first NUL is, for the failure's detail. */
function nulPath(value: unknown, path: string): string {
  if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key.includes("\u0000")) return path || "key";
      if (holdsNul(child)) return nulPath(child, path === "" ? key : `${path}.${key}`);
    }
  }
  return path;
}

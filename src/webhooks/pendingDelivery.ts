import type { ReversalPolicy } from "../config.js";
import type { Provider, ReadDelivery } from "../providers/PaymentEvent.js";
import type { PendingDelivery } from "./WebhookCommitQueue.js";
import { readStoredDelivery } from "./readStoredDelivery.js";

/**
 * A delivery whose signature held and whose environment matched: everything the writer
 * needs to store and apply it, in plain values a writer thread can be sent.
 */
export interface VerifiedDelivery {
  provider: Provider;
  /** The exact bytes that were signed. */
  rawBody: Uint8Array;
  /** The headers worth keeping, as the JSON text stored beside the body. */
  headers: string;
  receivedAt: Date;
  reversalPolicy: ReversalPolicy;
}

/**
 * The row a verified delivery is stored as, with what the writer applies; `read` is the
 * body already read by the caller, or is read again here (a writer thread receives bytes).
 */
export function pendingDelivery(verified: VerifiedDelivery, read: ReadDelivery = readStoredDelivery(verified.provider, verified.rawBody)): PendingDelivery {
  const rawBody = Buffer.isBuffer(verified.rawBody)
    ? verified.rawBody
    : Buffer.from(verified.rawBody.buffer, verified.rawBody.byteOffset, verified.rawBody.byteLength);
  return {
    row: {
      provider: verified.provider,
      event_id: read.eventId,
      event_type: read.eventType,
      status: "received",
      // The exact bytes that were signed, so the delivery can be verified again from its row.
      raw_body: rawBody,
      headers: verified.headers,
      livemode: read.livemode === null ? null : read.livemode ? 1 : 0,
      received_at: verified.receivedAt.toISOString(),
    },
    read,
    now: verified.receivedAt,
    reversalPolicy: verified.reversalPolicy,
  };
}

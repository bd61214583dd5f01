import type { Environment, ReversalPolicy } from "../config.js";
import type { Provider, ReadDelivery } from "../providers/PaymentEvent.js";
import type { IngestOutcome } from "./ingestDelivery.js";
import type { PendingDelivery, WebhookCommitQueue } from "./WebhookCommitQueue.js";
import { readStoredDelivery } from "./readStoredDelivery.js";

/**
 * A delivery whose signature held: everything the writer needs to check its environment,
 * store it and apply it, in plain values a writer thread can be sent.
 */
export interface VerifiedDelivery {
  provider: Provider;
  /** The exact bytes that were signed. */
  rawBody: Uint8Array;
  /** The headers worth keeping, as the JSON text stored beside the body. */
  headers: string;
  receivedAt: Date;
  reversalPolicy: ReversalPolicy;
  /** The instance's environment: a delivery whose livemode says otherwise is refused, not stored. */
  environment: Environment;
}

/** What a writer answers for a verified delivery. */
export type WrittenDelivery = Extract<IngestOutcome, { outcome: "stored" | "livemode_mismatch" }>;

/**
 * Reads the body once, where it is written (the writer thread, or this thread without
 * one): the main thread only verifies the signature. A live event at a test instance, or
 * a test event at a prod instance, is refused and nothing is stored; every other delivery
 * is stored (a body that cannot be read, as failed) and applied.
 */
export async function writeVerified(queue: WebhookCommitQueue, verified: VerifiedDelivery): Promise<WrittenDelivery> {
  const read = readStoredDelivery(verified.provider, verified.rawBody);
  if (read.livemode !== null && read.livemode !== (verified.environment === "prod")) return { outcome: "livemode_mismatch", livemode: read.livemode };
  const stored = await queue.submit(pendingDelivery(verified, read));
  return { outcome: "stored", eventId: read.eventId, status: stored.status, duplicate: stored.duplicate };
}

/**
 * The row a verified delivery is stored as, with what the writer applies; `read` is the
 * body already read by the caller, or is read here.
 */
export function pendingDelivery(verified: Omit<VerifiedDelivery, "environment">, read: ReadDelivery = readStoredDelivery(verified.provider, verified.rawBody)): PendingDelivery {
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

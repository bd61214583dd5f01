import type { Db } from "../storage/openDatabase.js";
import { writeVerified, type VerifiedDelivery, type WrittenDelivery } from "./pendingDelivery.js";
import { MAX_BATCH, WebhookCommitQueue } from "./WebhookCommitQueue.js";
import { WebhookWriterThread } from "./WebhookWriterThread.js";

/** Where verified deliveries go to be read, stored and applied (`writeVerified`); a promise resolves once its batch committed. */
export interface DeliveryWriter {
  submit(verified: VerifiedDelivery): Promise<WrittenDelivery>;
}

const WRITERS = new WeakMap<Db, DeliveryWriter>();

/** How the first call for a database sets up its writer; later calls get the same writer. */
export interface WriterOptions {
  /**
   * Never more than one group commit in flight, whatever the engine's `commitQueue` allows:
   * for a `serve --workers N` worker, whose N − 1 siblings already commit beside it
   * (docs/decisions/webhook-durability.md, "second round").
   */
  oneBatchAtATime?: boolean;
}

/**
 * One writer per open database. Where a thread may own the database's writes
 * (`db.separateWriter`: a file-backed SQLite database), the group commits run on the
 * webhook writer thread (docs/decisions/sqlite-writer-thread.md); otherwise on this
 * thread, overlapping as the engine's `commitQueue` says
 * (docs/decisions/webhook-durability.md).
 */
export function deliveryWriterFor(db: Db, options: WriterOptions = {}): DeliveryWriter {
  let writer = WRITERS.get(db);
  if (!writer) {
    writer = db.separateWriter ? WebhookWriterThread.start(db, db.separateWriter) : inThreadWriter(db, options);
    WRITERS.set(db, writer);
  }
  return writer;
}

function inThreadWriter(db: Db, options: WriterOptions): DeliveryWriter {
  const { maxInFlight, nextBatchAfterMs } = db.engine.commitQueue;
  const queue = new WebhookCommitQueue(db, MAX_BATCH, options.oneBatchAtATime ? 1 : maxInFlight, nextBatchAfterMs);
  return { submit: (verified) => writeVerified(queue, verified) };
}

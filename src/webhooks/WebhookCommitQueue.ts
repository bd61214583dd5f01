import type { Insertable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookEventsTable, WebhookStatus } from "../storage/schema.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import type { ReadDelivery } from "../providers/PaymentEvent.js";
import { applyStoredEvent } from "./applyStoredEvent.js";

export interface PendingDelivery {
  row: Insertable<WebhookEventsTable>;
  read: ReadDelivery;
  now: Date;
  reversalPolicy: ReversalPolicy;
}

export interface StoredDelivery {
  /** The same provider event id was stored before: nothing changed now. */
  duplicate: boolean;
  status: WebhookStatus;
}

interface Waiting {
  delivery: PendingDelivery;
  resolve(stored: StoredDelivery): void;
  reject(error: unknown): void;
}

/**
 * Group commit (docs/decisions/webhook-durability.md): deliveries that arrive while a
 * commit is under way wait, and the next transaction stores and applies all of them,
 * so one fsync covers the whole batch. A promise resolves only after its transaction
 * has committed, so no delivery is acknowledged before it is durable.
 */
export class WebhookCommitQueue {
  readonly #queue: Waiting[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
  ) {}

  submit(delivery: PendingDelivery): Promise<StoredDelivery> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ delivery, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.maxInFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    // setImmediate lets every request already read in this turn join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#inFlight >= this.maxInFlight) return;
      const batch = this.#queue.splice(0, this.maxBatch);
      if (batch.length === 0) return;
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
      this.#schedule();
    });
  }

  async #commit(batch: Waiting[]): Promise<void> {
    try {
      const results = await withTransaction(this.db, (trx) => storeAll(trx, batch.map((waiting) => waiting.delivery)));
      batch.forEach((waiting, index) => waiting.resolve(results[index]!));
    } catch (error) {
      if (batch.length === 1) {
        await this.#storeFailed(batch[0]!, error);
        return;
      }
      // One bad delivery must not refuse the others: commit each on its own.
      for (const waiting of batch) {
        try {
          const [result] = await withTransaction(this.db, (trx) => storeAll(trx, [waiting.delivery]));
          waiting.resolve(result!);
        } catch (single) {
          await this.#storeFailed(waiting, single);
        }
      }
    }
  }

  /**
   * Applying this delivery threw (a bug, or a database error that outlived the
   * retries): store it without applying, as failed `internal_error`, so it is
   * acknowledged and replayable. If even that fails, the provider gets a 5xx and retries.
   */
  async #storeFailed(waiting: Waiting, error: unknown): Promise<void> {
    try {
      const row = {
        ...waiting.delivery.row,
        status: "failed" as const,
        failure_reason: "internal_error",
        failure_detail: String((error as Error)?.message ?? error).slice(0, 500),
      };
      await withTransaction(this.db, (trx) =>
        trx
          .insertInto("webhook_events")
          .values(row)
          .onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing())
          .execute(),
      );
      waiting.resolve({ duplicate: false, status: "failed" });
    } catch {
      waiting.reject(error);
    }
  }
}

async function storeAll(trx: Trx, deliveries: PendingDelivery[]): Promise<StoredDelivery[]> {
  const results: StoredDelivery[] = [];
  for (const delivery of deliveries) {
    const inserted = await trx
      .insertInto("webhook_events")
      .values(delivery.row)
      .onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      const existing = await trx
        .selectFrom("webhook_events")
        .select("status")
        .where("provider", "=", delivery.row.provider)
        .where("event_id", "=", delivery.row.event_id)
        .executeTakeFirstOrThrow();
      results.push({ duplicate: true, status: existing.status });
      continue;
    }
    const applied = await applyStoredEvent(trx, inserted, { now: delivery.now, reversalPolicy: delivery.reversalPolicy }, delivery.read);
    results.push({ duplicate: false, status: applied.status });
  }
  return results;
}

const QUEUES = new WeakMap<Db, WebhookCommitQueue>();

/**
 * One queue per open database. SQLite has one writer: one batch at a time, as large
 * as what arrived during the previous commit. PostgreSQL commits deliveries one per
 * transaction, several at once on the pool: the server already shares one WAL flush
 * among concurrent commits, and multi-delivery transactions locking wallets in
 * arrival order would deadlock each other (PostgreSQL detects that after a second).
 */
export function commitQueueFor(db: Db): WebhookCommitQueue {
  let queue = QUEUES.get(db);
  if (!queue) {
    queue = db.dialect === "sqlite" ? new WebhookCommitQueue(db, 64, 1) : new WebhookCommitQueue(db, 1, Math.max(1, (db.pool?.options.max ?? 10) - 2));
    QUEUES.set(db, queue);
  }
  return queue;
}

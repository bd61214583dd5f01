import type { Insertable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookEventsTable, WebhookStatus } from "../storage/schema.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import type { ReadDelivery } from "../providers/PaymentEvent.js";
import { statementChunks } from "../storage/setBased.js";
import { applyStoredEvents, type StoredEvent } from "./applyStoredEvent.js";

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
  /** The batches being committed, by start time (performance.now()). */
  readonly #inFlight = new Set<{ startedAt: number }>();
  #scheduled = false;
  #hedge: NodeJS.Timeout | undefined;

  /**
   * @param maxInFlight batches committed at once, at most.
   * @param nextAfterMs a batch beyond the first starts only once every batch in flight
   *   has run this long: a batch stuck behind a slow statement or a lock does not hold
   *   the deliveries that arrive after it, and fast commits stay one at a time.
   */
  constructor(
    private readonly db: Db,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
    private readonly nextAfterMs = 0,
  ) {}

  submit(delivery: PendingDelivery): Promise<StoredDelivery> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ delivery, resolve, reject });
      this.#schedule();
    });
  }

  /** Milliseconds until another batch may start; 0 when one may start now. */
  #wait(): number {
    if (this.#inFlight.size >= this.maxInFlight) return Infinity;
    if (this.#inFlight.size === 0) return 0;
    const youngest = Math.max(...[...this.#inFlight].map((batch) => batch.startedAt));
    return Math.max(0, youngest + this.nextAfterMs - performance.now());
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return;
    const wait = this.#wait();
    if (wait === Infinity) return;
    if (wait > 0) {
      this.#hedge ??= setTimeout(() => {
        this.#hedge = undefined;
        this.#schedule();
      }, Math.ceil(wait));
      return;
    }
    this.#scheduled = true;
    // setImmediate lets every request already read in this turn join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#wait() > 0) return this.#schedule();
      const batch = this.#queue.splice(0, this.maxBatch);
      if (batch.length === 0) return;
      const started = { startedAt: performance.now() };
      this.#inFlight.add(started);
      void this.#commit(batch).finally(() => {
        this.#inFlight.delete(started);
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

const eventKey = (row: { provider: string; event_id: string }) => `${row.provider}\u0000${row.event_id}`;

/**
 * Stores a batch of deliveries with one insert per chunk and applies the new ones
 * together (`applyStoredEvents`). A delivery whose event id is already stored, before
 * or earlier in the same batch, is a duplicate and changes nothing.
 */
async function storeAll(trx: Trx, deliveries: PendingDelivery[]): Promise<StoredDelivery[]> {
  const firsts = new Map<string, PendingDelivery>();
  for (const delivery of deliveries) if (!firsts.has(eventKey(delivery.row))) firsts.set(eventKey(delivery.row), delivery);
  const inserted = new Map<string, StoredEvent>();
  // Inserted in key order: two processes storing the same events never wait on each other in a cycle.
  const byKey = [...firsts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, delivery]) => delivery);
  for (const chunk of statementChunks(byKey, 10)) {
    const rows = await trx
      .insertInto("webhook_events")
      .values(chunk.map((delivery) => delivery.row))
      .onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing())
      .returningAll()
      .execute();
    for (const row of rows) inserted.set(eventKey(row), row);
  }
  const fresh = [...firsts.values()].filter((delivery) => inserted.has(eventKey(delivery.row)));
  const applied = await applyStoredEvents(
    trx,
    fresh.map((delivery) => ({
      row: inserted.get(eventKey(delivery.row))!,
      options: { now: delivery.now, reversalPolicy: delivery.reversalPolicy },
      read: delivery.read,
    })),
  );
  const statuses = new Map<string, WebhookStatus>();
  fresh.forEach((delivery, index) => statuses.set(eventKey(delivery.row), applied[index]!.status));
  const stored = [...firsts.keys()].filter((key) => !statuses.has(key));
  for (const [key, status] of await storedStatuses(trx, stored.map((key) => firsts.get(key)!.row))) statuses.set(key, status);
  return deliveries.map((delivery) => ({
    duplicate: firsts.get(eventKey(delivery.row)) !== delivery || !inserted.has(eventKey(delivery.row)),
    status: statuses.get(eventKey(delivery.row))!,
  }));
}

/** The statuses of events stored before this batch, by provider and event id. */
async function storedStatuses(trx: Trx, rows: Insertable<WebhookEventsTable>[]): Promise<Map<string, WebhookStatus>> {
  const statuses = new Map<string, WebhookStatus>();
  for (const provider of new Set(rows.map((row) => row.provider))) {
    const ids = rows.filter((row) => row.provider === provider).map((row) => row.event_id);
    for (const chunk of statementChunks(ids, 1)) {
      const found = await trx
        .selectFrom("webhook_events")
        .select(["provider", "event_id", "status"])
        .where("provider", "=", provider)
        .where("event_id", "in", chunk)
        .execute();
      for (const row of found) statuses.set(eventKey(row), row.status);
    }
  }
  return statuses;
}

const QUEUES = new WeakMap<Db, WebhookCommitQueue>();

/**
 * One queue per open database, each batch as large as what arrived during the previous
 * commit (at most 64), overlapping as the engine's `commitQueue` says: a single writer
 * commits one batch at a time (docs/decisions/webhook-durability.md).
 */
export function commitQueueFor(db: Db): WebhookCommitQueue {
  let queue = QUEUES.get(db);
  if (!queue) {
    const { maxInFlight, nextBatchAfterMs } = db.engine.commitQueue;
    queue = new WebhookCommitQueue(db, 64, maxInFlight, nextBatchAfterMs);
    QUEUES.set(db, queue);
  }
  return queue;
}

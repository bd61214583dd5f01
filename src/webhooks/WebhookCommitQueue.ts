import type { Insertable } from "kysely";
import type { ReversalPolicy } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import type { WebhookEventsTable, WebhookStatus } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { ReadDelivery } from "../providers/PaymentEvent.js";
import { storeDeliveries } from "./storeDeliveries.js";

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

/** Each batch holds what arrived during the previous commit, up to this many deliveries. */
export const MAX_BATCH = 64;

interface Waiting {
  delivery: PendingDelivery;
  resolve(stored: StoredDelivery): void;
  reject(error: unknown): void;
}

/** How a delivery is answered, once every commit of its batch (whole, or one by one) has ended. */
type Answer = () => void;

/**
 * Group commit (docs/decisions/webhook-durability.md): deliveries that arrive while a
 * commit is under way wait, and the next transaction stores and applies all of them,
 * so one fsync covers the whole batch. A promise resolves only after its transaction
 * has committed, so no delivery is acknowledged before it is durable: the commit fsyncs,
 * except on the writer thread's connection (`callerFsyncsLog`), whose answers the main
 * thread holds until it has fsynced the log (WebhookWriterThread).
 */
export class WebhookCommitQueue {
  readonly #queue: Waiting[] = [];
  /** The batches being committed, by start time (performance.now()). */
  readonly #inFlight = new Set<{ startedAt: number }>();
  #scheduled = false;
  #hedge: NodeJS.Timeout | undefined;
  /** Set while another connection has its turn at the write lock: no batch starts. */
  #paused = false;
  /** Other writes of this connection waiting to run between two batches (`between`). */
  readonly #between: (() => Promise<void>)[] = [];
  /** Called each time a batch finishes. */
  #settled: (() => void)[] = [];

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

  /**
   * Starts no batch until `resume`; resolves once the batches in flight have committed,
   * so another connection can take the write lock without waiting on it.
   */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#idle();
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /**
   * Runs `work` (a write transaction of its own on this connection) between two batches,
   * as if it were one: no batch runs beside it and `pause` waits for it. It goes before
   * the deliveries waiting, which then form the next batch. Its caller answers for the
   * durability it needs (on the writer thread's connection a commit does not fsync).
   */
  between<T>(work: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#between.push(() => work().then(resolve, reject));
      this.#schedule();
    });
  }

  /** Resolves once every delivery (and `between` write) submitted so far has been committed (or refused). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#between.length > 0 || this.#inFlight.size > 0) {
      if (this.#inFlight.size === 0) this.#schedule();
      await new Promise<void>((resolve) => this.#settled.push(resolve));
    }
  }

  async #idle(): Promise<void> {
    while (this.#inFlight.size > 0) await new Promise<void>((resolve) => this.#settled.push(resolve));
  }

  /** Milliseconds until another batch may start; 0 when one may start now. */
  #wait(): number {
    if (this.#paused || this.#inFlight.size >= this.maxInFlight) return Infinity;
    if (this.#inFlight.size === 0) return 0;
    const youngest = Math.max(...[...this.#inFlight].map((batch) => batch.startedAt));
    return Math.max(0, youngest + this.nextAfterMs - performance.now());
  }

  #schedule(): void {
    if (this.#scheduled || (this.#queue.length === 0 && this.#between.length === 0)) return;
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
      const other = this.#between.shift();
      if (other) return this.#inFlightWhile(other);
      const batch = this.#queue.splice(0, this.maxBatch);
      if (batch.length === 0) return;
      this.#inFlightWhile(() => this.#commit(batch));
      this.#schedule();
    });
  }

  /**
   * Runs `work` (a batch, or a `between` write) as a write in flight; once it ends, answers
   * what it hands back, wakes `drain`, and schedules what waits.
   */
  #inFlightWhile(work: () => Promise<Answer[] | void>): void {
    const started = { startedAt: performance.now() };
    this.#inFlight.add(started);
    void work().then((answers) => {
      this.#inFlight.delete(started);
      for (const answer of answers ?? []) answer();
      for (const settled of this.#settled.splice(0)) settled();
      this.#schedule();
    });
  }

  /** Commits a batch; hands back how to answer each delivery, not answering yet. */
  async #commit(batch: Waiting[]): Promise<Answer[]> {
    try {
      const results = await withTransaction(this.db, (trx) => storeDeliveries(trx, batch.map((waiting) => waiting.delivery)));
      return batch.map((waiting, index) => () => waiting.resolve(results[index]!));
    } catch (error) {
      if (batch.length === 1) return [await this.#storeFailed(batch[0]!, error)];
      // One bad delivery must not refuse the others: commit each on its own.
      const answers: Answer[] = [];
      for (const waiting of batch) {
        try {
          const [result] = await withTransaction(this.db, (trx) => storeDeliveries(trx, [waiting.delivery]));
          answers.push(() => waiting.resolve(result!));
        } catch (single) {
          answers.push(await this.#storeFailed(waiting, single));
        }
      }
      return answers;
    }
  }

  /**
   * Applying this delivery threw (a bug, or a database error that outlived the
   * retries): store it without applying, as failed `internal_error`, so it is
   * acknowledged and replayable. If even that fails, the provider gets a 5xx and retries.
   */
  async #storeFailed(waiting: Waiting, error: unknown): Promise<Answer> {
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
      return () => waiting.resolve({ duplicate: false, status: "failed" });
    } catch {
      return () => waiting.reject(error);
    }
  }
}

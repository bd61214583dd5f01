import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import type { Db } from "../storage/openDatabase.js";
import { startModuleWorker } from "../threads/startModuleWorker.js";
import type { LogSyncLatch } from "../storage/sqlite/LogSyncLatch.js";
import { WalSync, walPathOf } from "../storage/sqlite/walSync.js";
import type { SeparateWriter, RangeToSweep, RangeWalked, WriteTurns } from "../storage/SeparateWriter.js";
import type { DeliveryWriter } from "./deliveryWriterFor.js";
import { webhookWriterExitsTotal } from "./metrics.js";
import type { VerifiedDelivery, WrittenDelivery } from "./pendingDelivery.js";
import { unpackRangeWalked } from "./packRangeWalked.js";
import type { FromWriter, ToWriter, WriterData } from "./writerMessages.js";

/** The writer thread ended (or is closing) before this delivery committed: nothing was acknowledged. */
export class WriterUnavailableError extends Error {
  readonly code = "RECKON_WRITER_UNAVAILABLE";
  constructor(why: string, options?: { cause?: unknown }) {
    super(`the webhook writer thread ${why}`, options);
    this.name = "WriterUnavailableError";
  }
}

interface Waiting {
  resolve(written: WrittenDelivery): void;
  reject(error: unknown): void;
}

/**
 * The main thread's side of the webhook writer thread (docs/decisions/sqlite-writer-thread.md):
 * it sends each verified delivery's bytes and answers the request when the thread says
 * its batch committed. It also gives the main connection its turns at the write lock.
 * A thread that dies fails what it had not answered (the providers send those again) and
 * is started anew at the next delivery, unless an fsync of the log failed: then every
 * delivery is refused until the process restarts (`LogSyncLatch`).
 */
export class WebhookWriterThread implements DeliveryWriter, WriteTurns {
  #worker: Worker | null = null;
  /** Fsyncs the log after the running thread's commits; one per thread, since one that failed refuses every later call. */
  #walSync: WalSync | null = null;
  readonly #waiting = new Map<number, Waiting>();
  /** Deliveries committed by the thread and answered once the fsync after their commit ends. */
  readonly #syncing = new Set<Promise<void>>();
  /** `sweepRange` calls the thread has not answered, by id (from the same counter as deliveries). */
  readonly #ranges = new Map<number, { resolve(walked: RangeWalked | { unavailable: true }): void; reject(error: Error): void }>();
  #nextId = 1;
  #turn: { worker: Worker; granted: () => void } | null = null;
  #closing: Promise<void> | null = null;
  /** Deliveries submitted in this turn of the event loop, sent together at its end. */
  #outbox: Extract<ToWriter, { kind: "store" }>["deliveries"] = [];

  private constructor(
    private readonly url: string,
    private readonly walSyncOf: (walPath: string) => WalSync,
    private readonly logSync: LogSyncLatch,
  ) {}

  /**
   * The thread for `db`: the main connection takes turns with it, and `db.close()` drains
   * and ends it. `walSyncOf` fsyncs the log after the thread's commits (tests hold or fail it).
   */
  static start(db: Db, separate: SeparateWriter, walSyncOf: (walPath: string) => WalSync = (walPath) => WalSync.ofFile(walPath)): WebhookWriterThread {
    const thread = new WebhookWriterThread(separate.url, walSyncOf, separate.logSync);
    separate.takeTurnsWith(thread);
    db.beforeClose(async () => {
      separate.takeTurnsWith(null);
      await thread.close();
    });
    if (!separate.logSync.failure) thread.#running();
    return thread;
  }

  /** The running thread, if any (tests end it to show what a crash does). */
  get worker(): Worker | null {
    return this.#worker;
  }

  submit(verified: VerifiedDelivery): Promise<WrittenDelivery> {
    if (this.#closing) return Promise.reject(new WriterUnavailableError("is closing"));
    // Not even committed: nothing written after a failed fsync could be acknowledged.
    const failure = this.logSync.failure;
    if (failure) return Promise.reject(new WriterUnavailableError("refuses deliveries until the process restarts: an fsync of the log failed", { cause: failure }));
    const worker = this.#running();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.ref();
      // Like the in-thread queue: every request already read in this turn joins one batch.
      if (this.#outbox.length === 0) setImmediate(() => this.#send());
      this.#outbox.push({ id, delivery: { ...verified } });
    });
  }

  #send(): void {
    const deliveries = this.#outbox;
    this.#outbox = [];
    const worker = this.#worker;
    if (!worker || deliveries.length === 0) return;
    worker.postMessage({ kind: "store", deliveries } satisfies ToWriter, [packBodies(deliveries.map(({ delivery }) => delivery))]);
  }

  take(): Promise<void> {
    const worker = this.#worker;
    // No thread, no writer to wait for; one started meanwhile waits on busy_timeout in its own thread.
    if (!worker) return Promise.resolve();
    return new Promise((granted) => {
      this.#turn = { worker, granted };
      worker.ref();
      worker.postMessage({ kind: "pause" } satisfies ToWriter);
    });
  }

  give(): void {
    const turn = this.#turn;
    this.#turn = null;
    if (turn && turn.worker === this.#worker) {
      turn.worker.postMessage({ kind: "resume" } satisfies ToWriter);
      this.#refreshRef();
    }
  }

  /**
   * Hands a reconciliation chunk's range to the thread, which walks it a slice at a time,
   * each slice between two batches (`walkSlices`). Only to a thread already running: one
   * is not started for this (tests and CLI runs reconcile without one, on their own
   * connection); and `unavailable` from one that ends first (its transaction
   * rolled back with its connection, or it committed and the caller's own walk keeps the
   * stored lines, answering the range as not complete).
   */
  sweepRange(range: RangeToSweep): Promise<RangeWalked | { unavailable: true }> {
    const worker = this.#worker;
    if (!worker || this.#closing || this.logSync.failure) return Promise.resolve({ unavailable: true });
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#ranges.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ kind: "range", id, range } satisfies ToWriter);
    });
  }

  /**
   * An fsync of the log for a commit of the main connection, on this thread's `WalSync`, so
   * the two never fsync the same file side by side. A failure trips the latch and ends the
   * thread, as one after its own batch does.
   */
  syncLog(): Promise<void> | null {
    const worker = this.#worker;
    const walSync = this.#walSync;
    if (!worker || !walSync || this.#closing) return null;
    const synced = walSync.sync();
    const settled = synced.catch((cause: unknown) => {
      this.logSync.trip(cause);
      void worker.terminate();
    });
    // The log's handle closes only once this fsync has ended (`#exited`).
    this.#syncing.add(settled);
    void settled.finally(() => this.#syncing.delete(settled));
    return synced;
  }

  /** Commits everything sent so far, then ends the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const worker = this.#worker;
      if (!worker) return;
      worker.ref();
      const exited = once(worker, "exit");
      this.#send();
      worker.postMessage({ kind: "close" } satisfies ToWriter);
      await exited;
      await Promise.all(this.#syncing);
    })();
    return this.#closing;
  }

  #running(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startModuleWorker(import.meta.url, "webhookWriterWorker", { url: this.url } satisfies WriterData);
    worker.on("message", (message: FromWriter) => this.#receive(message));
    // An error ends the thread; "exit" follows and fails what it held.
    let cause: unknown;
    worker.on("error", (error) => {
      cause = error;
    });
    worker.on("exit", () => this.#exited(worker, cause));
    worker.unref();
    this.#worker = worker;
    this.#walSync = this.walSyncOf(walPathOf(this.url.slice("file:".length)));
    return worker;
  }

  #receive(message: FromWriter): void {
    if (message.kind === "paused") {
      this.#turn?.granted();
      return;
    }
    if (message.kind === "range") {
      const waiting = this.#ranges.get(message.id);
      this.#ranges.delete(message.id);
      if ("failure" in message.walked) waiting?.reject(new Error(message.walked.failure));
      else waiting?.resolve(unpackRangeWalked(message.walked));
      this.#refreshRef();
      return;
    }
    const written: [Waiting, WrittenDelivery][] = [];
    for (const result of message.results) {
      const waiting = this.#waiting.get(result.id);
      this.#waiting.delete(result.id);
      if (!waiting) continue;
      if ("written" in result) written.push([waiting, result.written]);
      else waiting.reject(new Error(result.failure));
    }
    if (written.length > 0) this.#answerWhenSynced(written);
    this.#refreshRef();
  }

  /**
   * The thread's commits do not fsync (docs/decisions/sqlite-writer-thread.md, "Fourth
   * round"): it answers each batch as it commits, and this thread fsyncs the log before
   * answering the requests, while the writer runs its next batch; its event loop, busy
   * with that batch, would notice the fsync's end only after it. A failed fsync refuses
   * these deliveries, trips the latch, so that every later delivery and write is refused
   * until the process restarts, and ends the thread: what it committed since its last
   * good fsync may not be on disk, and no later fsync can prove it is.
   */
  #answerWhenSynced(written: [Waiting, WrittenDelivery][]): void {
    const worker = this.#worker;
    const walSync = this.#walSync;
    if (!worker || !walSync) {
      const error = new WriterUnavailableError("stopped before the delivery was on disk");
      for (const [waiting] of written) waiting.reject(error);
      return;
    }
    const syncing = walSync
      .sync()
      // The main connection's own fsync may have failed meanwhile: then nothing more is acknowledged.
      .then(() => this.logSync.throwIfTripped())
      .then(
        () => {
          for (const [waiting, delivery] of written) waiting.resolve(delivery);
        },
        (cause: unknown) => {
          const error = new WriterUnavailableError("could not fsync what it committed", { cause: this.logSync.trip(cause) });
          for (const [waiting] of written) waiting.reject(error);
          void worker.terminate();
        },
      );
    this.#syncing.add(syncing);
    void syncing.finally(() => this.#syncing.delete(syncing));
  }

  #exited(worker: Worker, cause: unknown): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    // Its commits still in the page cache are fsynced and answered; then the log's handle closes.
    const walSync = this.#walSync;
    this.#walSync = null;
    void Promise.all(this.#syncing).finally(() => walSync?.close());
    if (!this.#closing || this.#waiting.size > 0) webhookWriterExitsTotal.inc();
    const error = new WriterUnavailableError("stopped before the delivery committed", { cause });
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
    for (const waiting of this.#ranges.values()) waiting.resolve({ unavailable: true });
    this.#ranges.clear();
    this.#outbox = [];
    // The thread's connection closed with it: its lock, and its turn, are free.
    if (this.#turn?.worker === worker) this.#turn.granted();
  }

  /** The thread keeps the process alive only while something waits on it. */
  #refreshRef(): void {
    const worker = this.#worker;
    if (!worker) return;
    if (this.#waiting.size > 0 || this.#ranges.size > 0 || this.#turn || this.#closing) worker.ref();
    else worker.unref();
  }
}

/**
 * Copies the bodies of one message into one buffer of their own, each delivery's
 * `rawBody` becoming its slice, and returns that buffer, which is moved to the thread:
 * one allocation and one transfer per message, not one per body. Cloning the request's
 * view instead would copy its whole backing buffer (Node's 8 KiB pool or a 64 KiB
 * socket read), and moving that buffer itself would empty it under whoever still holds
 * it (a caller may send the same bytes twice).
 */
function packBodies(deliveries: VerifiedDelivery[]): ArrayBuffer {
  const packed = new Uint8Array(deliveries.reduce((total, delivery) => total + delivery.rawBody.byteLength, 0));
  let offset = 0;
  for (const delivery of deliveries) {
    packed.set(delivery.rawBody, offset);
    delivery.rawBody = packed.subarray(offset, offset + delivery.rawBody.byteLength);
    offset += delivery.rawBody.byteLength;
  }
  return packed.buffer;
}

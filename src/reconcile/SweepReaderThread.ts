import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "../runtime/startModuleWorker.js";
import type { Db } from "../storage/openDatabase.js";
import type { ObservedSlice, SliceSource } from "./observeSlice.js";
import { SLICE_USERS } from "./observeRange.js";
import type { UidRange } from "./readSweptUsers.js";
import type { FromReader, ReaderData, ToReader } from "./sweepReaderMessages.js";

/**
 * The thread holds one slice at a time: a small young generation is collected often
 * instead of growing (the run's peak RSS is a target: docs/decisions/reconciliation-reader-thread.md).
 */
const READER_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 };

interface Waiting {
  resolve(slice: ObservedSlice): void;
  reject(error: unknown): void;
}

/**
 * The main thread's side of the sweep's reader thread on SQLite: it asks for a slice
 * and gets back its hashed `ok` lines and drifted users, read on the thread's own
 * connection while this thread writes the previous slice and serves requests. Each
 * slice is one statement, so one consistent read, as in this thread; what decides a
 * heal is still the heal's own reading under the wallet lock (`readHealCandidates`).
 * A thread that fails fails the run (it is marked `failed` and can be started again).
 */
export class SweepReaderThread implements SliceSource {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #failure: Error | null = null;

  private constructor(data: ReaderData) {
    this.#worker = startModuleWorker(import.meta.url, "sweepReaderWorker", data, READER_HEAP);
    this.#worker.on("message", (message: FromReader) => this.#answer(message));
    this.#worker.on("error", (error) => this.#fail(error));
    this.#worker.on("exit", (code) => this.#fail(new Error(`the sweep's reader thread exited (${code})`)));
  }

  /**
   * A reader for a run on `db`, or null where slices are read in this thread: PostgreSQL,
   * SQLite in memory (no file to share), and chunks of one slice, where there is nothing
   * to read ahead and starting a thread would only cost (about 0.3 s from the sources).
   */
  static forRun(db: Db, runDate: string, chunkUsers: number): SweepReaderThread | null {
    if (!db.engine.inProcess || !db.separateWriter || chunkUsers <= SLICE_USERS) return null;
    return new SweepReaderThread({ url: db.separateWriter.url, runDate });
  }

  /** The thread (tests end it to show what a crash does). */
  get worker(): Worker {
    return this.#worker;
  }

  observe(range: UidRange, limit: number): Promise<ObservedSlice> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ kind: "observe", id, range, limit } satisfies ToReader);
    });
  }

  async close(): Promise<void> {
    if (this.#failure) return;
    const exited = once(this.#worker, "exit");
    this.#worker.postMessage({ kind: "close" } satisfies ToReader);
    await exited;
  }

  #answer(message: FromReader): void {
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    if ("slice" in message) waiting.resolve(message.slice);
    else waiting.reject(new Error(`the sweep's reader thread failed: ${message.failure}`));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(this.#failure);
    this.#waiting.clear();
  }
}

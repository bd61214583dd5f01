import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import type { Db } from "../storage/openDatabase.js";
import { startModuleWorker } from "../threads/startModuleWorker.js";
import type { ReadyUser } from "./applyImportBatch.js";
import { commitImportBatch, type CommitSettings, type CommittedBatch } from "./commitImportBatch.js";
import type { FromImportWriter, ImportWriterData, ToImportWriter } from "./importWriterMessages.js";

/**
 * Where an import's batches are committed, one after another in the order given. `commit`
 * returns at once with the batch's outcome to come, so the caller reads and checks the
 * next batch while this one is written; the caller bounds how many it leaves waiting.
 */
export interface ImportWriter {
  commit(users: ReadyUser[]): Promise<CommittedBatch>;
  /** Ends the writer once every batch given has been answered. */
  close(): Promise<void>;
}

/** A batch the writer thread failed to commit; nothing of it, or of any later batch, was written. */
export class ImportWriterError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "ImportWriterError";
  }
}

/**
 * A file-backed SQLite database is written by a thread of its own (`Db.separateWriter`):
 * SQLite's insert work, which is most of an import, then runs on the second core beside
 * the reading and parsing. Elsewhere (PostgreSQL, whose server already works beside this
 * process, and in-memory SQLite, which no other thread can open) batches are committed
 * on `db` itself, still one at a time, as they are when `thread` is false.
 */
export function importWriterFor(db: Db, settings: CommitSettings, thread: boolean): ImportWriter {
  return thread && db.separateWriter ? threadWriter({ url: db.separateWriter.url, settings }) : inThreadWriter(db, settings);
}

function inThreadWriter(db: Db, settings: CommitSettings): ImportWriter {
  let last: Promise<unknown> = Promise.resolve();
  /** After a failed batch no later one is written, as on the writer thread. */
  let failure: { error: unknown } | null = null;
  return {
    commit(users) {
      const committed = last.then(() => {
        if (failure) throw failure.error;
        return commitImportBatch(db, users, settings);
      });
      last = committed.catch((error: unknown) => {
        failure ??= { error };
      });
      return committed;
    },
    close: () => last.then(() => undefined),
  };
}

interface Waiting {
  resolve(batch: CommittedBatch): void;
  reject(error: unknown): void;
}

/**
 * The writer thread's young generation, in MiB. V8's default let the thread's heap hold
 * ~40 MB more at 1M entries for no less CPU (docs/decisions/import-speed.md).
 */
const WRITER_YOUNG_GENERATION_MB = 8;

function threadWriter(data: ImportWriterData): ImportWriter {
  const worker: Worker = startModuleWorker(import.meta.url, "importWriterWorker", data, { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB });
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let exitCause: unknown = null;
  let ended = false;
  worker.on("message", (message: FromImportWriter) => {
    const answer = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.kind === "committed") answer?.resolve(message.batch);
    else answer?.reject(new ImportWriterError(message.message, message.code));
  });
  worker.on("error", (error) => {
    exitCause = error;
  });
  const exited = once(worker, "exit").then(() => {
    ended = true;
    const error = exitCause ?? new ImportWriterError("the import's writer thread stopped before the batch committed", null);
    for (const answer of waiting.values()) answer.reject(error);
    waiting.clear();
  });
  return {
    commit(users) {
      if (ended) return Promise.reject(exitCause ?? new ImportWriterError("the import's writer thread has stopped", null));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ kind: "commit", id, users } satisfies ToImportWriter);
      });
    },
    async close() {
      worker.postMessage({ kind: "close" } satisfies ToImportWriter);
      await exited;
    },
  };
}

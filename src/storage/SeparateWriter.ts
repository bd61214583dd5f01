import type { SettledLine } from "./EngineAdapter.js";
import type { LogSyncLatch } from "./sqlite/LogSyncLatch.js";

/**
 * Turns at a SQLite file's one write lock, between this thread's connection and a
 * writer thread that owns another connection to the same file (the webhook writer,
 * docs/decisions/sqlite-writer-thread.md). `take` resolves once the writer has finished
 * its batch in flight and holds back the next one; `give` lets it go on.
 */
export interface WriteTurns {
  take(): Promise<void>;
  give(): void;
  /**
   * Appends a reconciliation chunk's `ok` lines on the writer's own connection, between
   * two of its batches, in one transaction that first checks the chunk is still
   * `holder`'s: no turn is taken, so webhook batches wait for the insert alone, not for
   * a round trip through both threads' event loops
   * (docs/decisions/reconciliation-reader-thread.md, "Webhook tail").
   * `unavailable`: no writer is running now; the caller writes on its own connection.
   */
  appendSettledLines?(write: SettledLinesWrite): Promise<SettledLinesWritten>;
  /**
   * An fsync of the write-ahead log, begun after this call, on the writer's own `WalSync`:
   * a commit of this connection shares the fsyncs that make the writer's deliveries
   * durable instead of running one of its own beside them on the same file. Null when
   * no writer is running; the caller then fsyncs the log itself.
   */
  syncLog?(): Promise<void> | null;
}

/** A chunk's `ok` lines as arrays; whoever writes them hashes them (`okLineHasher` for the run's `date`) and answers the hashes. */
export interface SettledLinesWrite {
  runId: number;
  /** The run's date, part of every line's hash. */
  date: string;
  chunkNo: number;
  holder: string;
  uids: string[];
  points: number[];
  counts: number[];
}

export type SettledLinesWritten =
  /** Committed; `rows` below the lines sent means some were already stored (and kept). */
  | { outcome: "written"; rows: number; hashes: string[] }
  /** The chunk is no longer `holder`'s: nothing was written. */
  | { outcome: "chunk_lost" }
  | { outcome: "unavailable" };

/** A database whose writes a thread of this process may own, on its own connection. */
export interface SeparateWriter {
  /** The URL that thread opens. */
  readonly url: string;
  /** Tripped by a failed fsync of the log, the thread's or this connection's: the thread then refuses every delivery. */
  readonly logSync: LogSyncLatch;
  /**
   * From now on, this connection's write transactions take a turn from `turns` before
   * `BEGIN IMMEDIATE` and give it back after commit or rollback (null: they no longer do).
   * Waiting on `busy_timeout` instead would sleep the event loop, and could wait in vain
   * behind a writer that starts its next batch the moment one commits.
   */
  takeTurnsWith(turns: WriteTurns | null): void;
  /** The writer this connection takes turns with now, if any. */
  readonly turns: WriteTurns | null;
}

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
   * Walks a reconciliation chunk's range on the writer's own connection a slice at a
   * time (`walkSlices` over `sweepSlice`), each slice observed and its `ok` lines written
   * in one statement between two of its batches, so a batch waits behind one slice at
   * most; no row reaches this thread, and no statement of the sweep runs on its event
   * loop (docs/decisions/reconciliation-performance.md, "SQLite sweep, fifth round").
   * `unavailable`: no writer is running now; the caller sweeps on its own connection.
   */
  sweepRange?(range: RangeToSweep): Promise<RangeWalked | { unavailable: true }>;
  /**
   * An fsync of the write-ahead log, begun after this call, on the writer's own `WalSync`:
   * a commit of this connection shares the fsyncs that make the writer's deliveries
   * durable instead of running one of its own beside them on the same file. Null when
   * no writer is running; the caller then fsyncs the log itself.
   */
  syncLog?(): Promise<void> | null;
}

/** Users of a claimed chunk of a run, from after `after` up to `last`, as the sweep walks them. */
interface ClaimedUsers {
  runId: number;
  /** The run's date, part of every line's hash. */
  date: string;
  chunkNo: number;
  /** The claimer: nothing is written once the chunk is no longer theirs. */
  holder: string;
  /** Exclusive; null means from the first user. */
  after: string | null;
  /** Inclusive; null means to the last user. */
  last: string | null;
}

/** One slice of a chunk's range for `sweepSlice`: the first `limit` users after `after`, up to `last`. */
export interface SliceToSweep extends ClaimedUsers {
  limit: number;
}

/** A chunk's range for `walkSlices`, in slices of `sliceUsers`. */
export interface RangeToSweep extends ClaimedUsers {
  sliceUsers: number;
}

/** What `walkSlices` answers: `kept` false when the chunk was lost (nothing more was written). */
export type RangeWalked =
  | { kept: false }
  | {
      kept: true;
      usersChecked: number;
      /** Users not settled, in user-id order, for the heal. */
      drifted: string[];
      /** The `ok` lines' hashes in user-id order, and each drifted user's place among them (`SweptLines`). */
      hashes: string[];
      driftedAfter: number[];
      /** False when a line was already stored for one of the users (and kept). */
      complete: boolean;
    };

/** What one slice of the sweep saw and wrote (`sweepSlice`). */
export interface SweptSliceRows {
  /** Users of the slice. */
  checked: number;
  /** The slice's last user id, in the database's order; null for an empty slice. */
  lastUid: string | null;
  /** The hashes of the slice's stored lines, in user-id order: its `ok` lines, unless `inserted` says some were there before. */
  hashes: string[];
  /** Users not settled (drifted or past the exact range), in user-id order. */
  drifted: string[];
  /** For each of `drifted`: how many `ok` lines of the slice come before it. */
  driftedAt: number[];
  /** `ok` lines this sweep inserted; fewer than `hashes` when some lines of the slice were already stored (and kept). */
  inserted: number;
}

export type SliceSwept =
  /** Committed: the slice as seen, its `ok` lines written. */
  | { outcome: "swept"; rows: SweptSliceRows }
  /** The chunk is no longer `holder`'s: nothing was written. */
  | { outcome: "chunk_lost" };

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

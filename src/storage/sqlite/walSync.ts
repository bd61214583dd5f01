import { realpathSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";

/** The write-ahead log of the SQLite file at `path`: SQLite names it after the file a symbolic link points to. */
export function walPathOf(path: string): string {
  return `${realpathSync(resolve(path))}-wal`;
}

/** The write-ahead log could not be fsynced: what was committed since the last fsync may not be on disk. */
export class WalSyncError extends Error {
  readonly code = "RECKON_WAL_SYNC_FAILED";
  constructor(options: { cause: unknown }) {
    super(`fsync of the SQLite write-ahead log failed: ${String((options.cause as Error)?.message ?? options.cause)}`, options);
    this.name = "WalSyncError";
  }
}

/**
 * fsyncs of the log at once, by default. Two (a commit made during an fsync starts its own
 * at once) did not measure better than one (docs/decisions/sqlite-writer-thread.md, "Fourth
 * round"), and one keeps the disk's work to one fsync per wait.
 */
const MAX_RUNNING_FSYNCS = 1;

/**
 * Makes a SQLite connection's commits durable off its thread (docs/decisions/sqlite-writer-thread.md,
 * "The fsync after the commit"). The connection (opened with `callerFsyncsLog`) commits with
 * `synchronous = NORMAL`: a commit writes its frames to the write-ahead log without
 * waiting for the disk, and `sync()` then fsyncs the log from libuv's thread pool (what
 * `synchronous = FULL` does inside the commit) while the writer goes on with its next
 * batch. Whoever acknowledges a commit awaits a `sync()` called after it.
 *
 * Up to `maxRunning` fsyncs run at once; calls made while that many run share the next one
 * to start (with one at a time, a commit made during an fsync waits for it to end and then
 * for its own, which every commit made meanwhile shares). A `sync()`
 * resolves only once its fsync and every fsync started before it have succeeded: the log
 * is read back in order, so a commit is only as safe as the frames before it. After one
 * fsync fails, every `sync()` not yet resolved and every later one rejects: a later fsync
 * of the same file may report success although the failed pages never reached the disk.
 * The process goes further than this one `WalSync` (`LogSyncLatch`): it writes nothing more.
 */
export class WalSync {
  /** fsyncs under way. */
  #running = 0;
  /** The fsync that starts once one under way ends, shared by every `sync()` called meanwhile. */
  #next: Promise<void> | null = null;
  /** Started when an fsync under way ends. */
  readonly #onSlotFree: (() => void)[] = [];
  /** Settles once the latest fsync and every one before it have succeeded (rejects if any failed). */
  #ordered: Promise<void> = Promise.resolve();
  #failed: WalSyncError | null = null;

  /**
   * `fsync` flushes the log to disk; `release` lets go of what it holds; `maxRunning`
   * fsyncs at once, at most.
   */
  constructor(
    private readonly fsync: () => Promise<void>,
    private readonly release: () => Promise<void> = async () => undefined,
    private readonly maxRunning = MAX_RUNNING_FSYNCS,
  ) {}

  /** Syncs the log at `walPath` (the database's path with `-wal`), opened at the first sync. */
  static ofFile(walPath: string): WalSync {
    let handle: Promise<FileHandle> | null = null;
    return new WalSync(
      // The connection keeps its log open, so the log is never deleted under this handle.
      async () => (await (handle ??= open(walPath, "r"))).datasync(),
      async () => (await handle?.catch(() => null))?.close(),
    );
  }

  /** Resolves once everything committed before this call is on disk; rejects with `WalSyncError`. */
  sync(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#running < this.maxRunning) return this.#start();
    this.#next ??= new Promise<void>((resolve, reject) => {
      this.#onSlotFree.push(() => {
        this.#next = null;
        if (this.#failed) reject(this.#failed);
        else this.#start().then(resolve, reject);
      });
    });
    return this.#next;
  }

  #start(): Promise<void> {
    this.#running++;
    const own = this.fsync()
      .catch((cause: unknown) => {
        throw (this.#failed ??= new WalSyncError({ cause }));
      })
      .finally(() => {
        this.#running--;
        this.#onSlotFree.shift()?.();
      });
    // Handled below, through `ordered`; this only keeps its own rejection from being reported twice.
    own.catch(() => undefined);
    const ordered = this.#ordered.then(() => own);
    ordered.catch(() => undefined);
    this.#ordered = ordered;
    return ordered;
  }

  /** Once the last `sync()` has settled. */
  close(): Promise<void> {
    return this.release();
  }
}

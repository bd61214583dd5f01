import { open, type FileHandle } from "node:fs/promises";

/** The write-ahead log could not be fsynced: what was committed since the last fsync may not be on disk. */
export class WalSyncError extends Error {
  readonly code = "RECKON_WAL_SYNC_FAILED";
  constructor(options: { cause: unknown }) {
    super(`fsync of the SQLite write-ahead log failed: ${String((options.cause as Error)?.message ?? options.cause)}`, options);
    this.name = "WalSyncError";
  }
}

/**
 * Makes a SQLite connection's commits durable off its thread (docs/decisions/sqlite-writer-thread.md,
 * "The fsync after the commit"). The connection commits with `synchronous = NORMAL`: a
 * commit writes its frames to the write-ahead log without waiting for the disk, and
 * `sync()` then fsyncs the log from libuv's thread pool (what `synchronous = FULL` does
 * inside the commit) while the writer goes on with its next batch. Whoever acknowledges
 * a commit awaits a `sync()` called after it.
 */
export class WalSync {
  /** The fsync under way; it may have started before the latest commit, so it covers only what came before it. */
  #running: Promise<void> | null = null;
  /** The fsync that starts once `#running` ends, shared by every `sync()` called meanwhile. */
  #next: Promise<void> | null = null;

  /** `fsync` flushes the log to disk; `release` lets go of what it holds. */
  constructor(
    private readonly fsync: () => Promise<void>,
    private readonly release: () => Promise<void> = async () => undefined,
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
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  #startNext(): Promise<void> {
    this.#next = null;
    return this.#start();
  }

  #start(): Promise<void> {
    const running = this.fsync()
      .catch((cause: unknown) => {
        throw new WalSyncError({ cause });
      })
      .finally(() => {
        if (this.#running === running) this.#running = null;
      });
    this.#running = running;
    return running;
  }

  /** Once the last `sync()` has settled. */
  close(): Promise<void> {
    return this.release();
  }
}

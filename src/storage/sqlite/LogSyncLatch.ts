import { Gauge } from "prom-client";
import { registry } from "../../ops/metrics.js";
import { WalSyncError } from "./walSync.js";

/** 1 once any database of this process has tripped its latch: the process must be restarted. */
export const sqliteLogSyncFailed = new Gauge({
  name: "reckon_sqlite_log_sync_failed",
  help: "1 once an fsync of the SQLite write-ahead log failed in this process: every write is refused (503) until it restarts",
  registers: [registry],
});

/**
 * Once an fsync of a SQLite database's write-ahead log has failed in this process, every
 * later write that would be acknowledged is refused until the process restarts
 * (docs/decisions/sqlite-writer-thread.md, "A failed fsync stops writes until restart").
 * After a failed fsync the kernel may have dropped the log's dirty pages and marked them
 * clean, so a later fsync can succeed without the earlier frames ever reaching the disk
 * ("fsyncgate"); PostgreSQL PANICs for the same reason (`data_sync_retry = off`). A
 * restart reopens the file and reads back only what is on disk, and the providers send
 * again every delivery that was not acknowledged.
 *
 * One per database handle (`Db.logSync`): the main connection's writes (`SyncedCommits`)
 * and the webhook writer thread, whichever thread it is now (`WebhookWriterThread`), both
 * trip it and both check it, so a new writer thread cannot acknowledge again.
 */
export class LogSyncLatch {
  #failure: WalSyncError | null = null;
  readonly #listeners: ((failure: WalSyncError) => void)[] = [];

  /** The first failed fsync; null while every fsync has succeeded. */
  get failure(): WalSyncError | null {
    return this.#failure;
  }

  /** Records a failed fsync (the first one is kept, and reported once) and returns what every later write is refused with. */
  trip(cause: unknown): WalSyncError {
    if (this.#failure) return this.#failure;
    const failure = cause instanceof WalSyncError ? cause : new WalSyncError({ cause });
    this.#failure = failure;
    sqliteLogSyncFailed.set(1);
    for (const listener of this.#listeners.splice(0)) listener(failure);
    return failure;
  }

  /**
   * Throws the first failure once the latch has tripped: a write about to begin, or an
   * answer about to be given after an fsync that succeeded (an fsync of another handle
   * may have failed meanwhile, and a success after a failure proves nothing).
   */
  throwIfTripped(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Calls `listener` once, when the latch trips (at once if it has): the server logs it at error level. */
  whenTripped(listener: (failure: WalSyncError) => void): void {
    if (this.#failure) listener(this.#failure);
    else this.#listeners.push(listener);
  }
}

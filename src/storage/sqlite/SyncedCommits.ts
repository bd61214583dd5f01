import type BetterSqlite3 from "better-sqlite3";
import type { LogSyncLatch } from "./LogSyncLatch.js";
import type { WalSync } from "./walSync.js";

/**
 * The write commits of a connection whose thread must not stand still in an fsync: the
 * main connection of a file-backed database that a webhook writer thread may share
 * (docs/decisions/sqlite-writer-thread.md, "Sixth round"). Each write (a transaction, or
 * a write statement outside one) runs with `synchronous = NORMAL`, so its commit writes
 * the log without waiting for the disk, and the driver then awaits `sync()`: an fsync of
 * the log begun after the commit, in libuv's thread pool. The write's promise resolves
 * only once it has ended, so nothing a caller treats as done (a claim, a heal, an
 * adjustment, a spend answered to a client) is reported before it is on disk, as with
 * `synchronous = FULL`; only the event loop no longer waits for the disk meanwhile.
 *
 * Between writes the connection is back at `FULL`, so a statement run on the raw handle
 * (migrations, `migrationSession.ts`) commits as it always did. `PRAGMA synchronous` is
 * applied when SQLite prepares it, not when it runs, so it is executed afresh each time.
 *
 * After an fsync failed, here or for the writer thread, every later write is refused
 * before it begins (`WalSyncError`) until the process restarts (`LogSyncLatch`): a later
 * fsync of the same file may report success although the failed pages never reached the disk.
 */
export class SyncedCommits {
  /** Settles once the latest `sync()` and every one before it have succeeded (rejects if any failed). */
  #ordered: Promise<void> = Promise.resolve();

  /** `latch`: the database's, shared with its writer thread. */
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly walSync: WalSync,
    private readonly latch: LogSyncLatch,
  ) {}

  /** Before `BEGIN` or a write outside a transaction: refuses after a failed fsync, then commits without one. */
  beforeWrite(): void {
    this.latch.throwIfTripped();
    this.sqlite.exec("PRAGMA synchronous = NORMAL");
  }

  /** After the write committed or rolled back: the connection's own commits fsync again. */
  afterWrite(): void {
    if (!this.sqlite.inTransaction) this.sqlite.exec("PRAGMA synchronous = FULL");
  }

  /**
   * Called after a commit: resolves once the log is on disk up to it, and every earlier
   * write of this connection's too; rejects with `WalSyncError`. `shared`: an fsync begun
   * after the commit by the writer thread's `WalSync` (`WriteTurns.syncLog`), used instead of
   * this connection's own.
   */
  sync(shared: Promise<void> | null = null): Promise<void> {
    const own = (shared ?? this.walSync.sync()).then(
      () => this.latch.throwIfTripped(),
      (cause: unknown) => {
        throw this.latch.trip(cause);
      },
    );
    own.catch(() => undefined);
    const ordered = this.#ordered.then(() => own);
    ordered.catch(() => undefined);
    this.#ordered = ordered;
    return ordered;
  }

  /** Once the latest fsync has ended, lets go of the log's file handle. */
  async close(): Promise<void> {
    await this.#ordered.catch(() => undefined);
    await this.walSync.close();
  }
}

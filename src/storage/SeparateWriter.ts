/**
 * Turns at a SQLite file's one write lock, between this thread's connection and a
 * writer thread that owns another connection to the same file (the webhook writer,
 * docs/decisions/sqlite-writer-thread.md). `take` resolves once the writer has finished
 * its batch in flight and holds back the next one; `give` lets it go on.
 */
export interface WriteTurns {
  take(): Promise<void>;
  give(): void;
}

/** A database whose writes a thread of this process may own, on its own connection. */
export interface SeparateWriter {
  /** The URL that thread opens. */
  readonly url: string;
  /**
   * From now on, this connection's write transactions take a turn from `turns` before
   * `BEGIN IMMEDIATE` and give it back after commit or rollback (null: they no longer do).
   * Waiting on `busy_timeout` instead would sleep the event loop, and could wait in vain
   * behind a writer that starts its next batch the moment one commits.
   */
  takeTurnsWith(turns: WriteTurns | null): void;
}

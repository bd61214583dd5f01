import type BetterSqlite3 from "better-sqlite3";

/**
 * `EngineAdapter.withPageCache` for one SQLite connection. Each connection has a page cache
 * of its own (`cache_size`), and what it fills stays in the process's resident memory, so a
 * serving connection keeps a small one and a job that re-reads the same pages batch after
 * batch (a backfill) raises it for its run (docs/decisions/sqlite-cache-sizes.md).
 *
 * While any such work runs, the cache is the largest size asked for, never below the
 * connection's own; when the last one ends, however it ends, the connection's own setting is
 * set again exactly as it was (pages or KiB), and SQLite frees the pages beyond it.
 */
export function raisedPageCache(raw: BetterSqlite3.Database): <T>(kiB: number, work: () => Promise<T>) => Promise<T> {
  const raises: number[] = [];
  /** The connection's own `cache_size` (negative: KiB; positive: pages), read before the first raise. */
  let own = 0;

  const ownKiB = () => (own < 0 ? -own : (own * (raw.pragma("page_size", { simple: true }) as number)) / 1024);
  const apply = () => {
    const value = raises.length === 0 ? own : -Math.max(ownKiB(), ...raises);
    raw.pragma(`cache_size = ${value}`);
  };

  return async <T>(kiB: number, work: () => Promise<T>): Promise<T> => {
    if (!Number.isSafeInteger(kiB) || kiB <= 0) throw new Error(`a page cache is a positive number of KiB, not ${kiB}`);
    if (raises.length === 0) own = raw.pragma("cache_size", { simple: true }) as number;
    raises.push(kiB);
    try {
      apply();
      return await work();
    } finally {
      raises.splice(raises.indexOf(kiB), 1);
      // A connection closed meanwhile (the process shutting down) has no cache left to size.
      if (raw.open) apply();
    }
  };
}

import type { Transaction } from "kysely";
import type { Db } from "./openDatabase.js";
import type { Schema } from "./schema.js";

export type Trx = Transaction<Schema>;

/**
 * PostgreSQL errors after which the whole unit of work can simply run again:
 * serialization failure, deadlock, and a unique violation raced by a concurrent
 * writer (the retry then sees the winner's row and answers `duplicate` or `conflict`).
 */
const RETRYABLE_PG_CODES = new Set(["40001", "40P01", "23505"]);

/**
 * Thrown inside a unit of work that found a concurrent writer got there first (for
 * example its idempotency key committed between our check and our write): the whole
 * transaction runs again and then sees the winner's result.
 */
export class ConcurrentWriteError extends Error {
  readonly code = "RECKON_CONCURRENT_WRITE";
  constructor(what: string) {
    super(`a concurrent writer committed first: ${what}`);
    this.name = "ConcurrentWriteError";
  }
}

/** Whether `withTransaction` runs the whole unit of work again after `error`. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ConcurrentWriteError) return true;
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  return RETRYABLE_PG_CODES.has(code) || code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT";
}

/** Runs `work` in one transaction, again from the start if a concurrent writer forced a rollback. */
export function withTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>, attempts = 5): Promise<T> {
  return retryingConflicts(() => db.kysely.transaction().execute(work), attempts);
}

/**
 * Runs `attempt` (one transaction, or one statement that is its own) again after a short
 * random pause while a concurrent writer forced its rollback (`isRetryable`), at most
 * `attempts` times in all.
 */
export async function retryingConflicts<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= attempts || !isRetryable(error)) throw error;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, Math.random() * 5 * tried));
    }
  }
}

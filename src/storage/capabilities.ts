import { PostgresAdapter, type Kysely } from "kysely";
import type { DialectName } from "./openDatabase.js";

/** Everything the two engines do differently, in one table. */
export interface Capabilities {
  /** `SELECT … FOR UPDATE` exists; on SQLite the single writer makes it unnecessary. */
  rowLocks: boolean;
  /** `FOR UPDATE SKIP LOCKED` lets several processes claim different rows. */
  skipLocked: boolean;
}

export const CAPABILITIES: Record<DialectName, Capabilities> = {
  sqlite: { rowLocks: false, skipLocked: false },
  postgres: { rowLocks: true, skipLocked: true },
};

/** The dialect behind a query builder or transaction. */
export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
}

export function capabilitiesOf(db: Kysely<any>): Capabilities {
  return CAPABILITIES[dialectOf(db)];
}

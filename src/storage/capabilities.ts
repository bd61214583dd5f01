import type { Kysely } from "kysely";
import { engineOf } from "./EngineAdapter.js";

/** What the two engines can and cannot do: the flags half of each `EngineAdapter`. */
export interface Capabilities {
  /** `SELECT … FOR UPDATE` exists; on SQLite the single writer makes it unnecessary. */
  rowLocks: boolean;
  /** `FOR UPDATE SKIP LOCKED` lets several processes claim different rows. */
  skipLocked: boolean;
  /**
   * A `WITH` clause may hold an `INSERT` (a data-modifying CTE), so one statement can
   * read rows, write some of them and return the others.
   */
  writableCtes: boolean;
  /**
   * Queries run in this process, synchronously, on one connection shared with live
   * requests: long work is cut into short statements with turns for requests between.
   */
  inProcess: boolean;
}

export function capabilitiesOf(db: Kysely<any>): Capabilities {
  return engineOf(db);
}

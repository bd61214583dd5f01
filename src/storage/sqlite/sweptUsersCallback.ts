import type BetterSqlite3 from "better-sqlite3";
import { sql, type CompiledQuery, type Kysely, type RawBuilder } from "kysely";
import type { SweptSliceRows, SweptUsersInProcess } from "../EngineAdapter.js";

/** The SQL function a slice statement calls once per user (`userCall`); registered on each connection that sweeps. */
const FUNCTION_NAME = "reckon_swept_user";

/**
 * What one slice statement's calls saw, by the user's position in the slice (its
 * `row_number` in user-id order), so neither the order in which SQLite happens to call
 * the function nor a second call for the same row (a flattened subquery evaluates an
 * expression where it is used) changes the answer.
 */
class SliceSeen {
  /** The `ok` line's hash of each position, or the user id of one not settled. */
  readonly #at: ({ hash: string } | { drifted: string })[] = [];
  #lastPosition = -1;
  #lastUid: string | null = null;

  constructor(readonly hashOf: (uid: string, points: number, count: number) => string) {}

  see(position: number, uid: string, settled: number, points: number | null, count: number): string | null {
    if (position > this.#lastPosition) {
      this.#lastPosition = position;
      this.#lastUid = uid;
    }
    if (!settled) {
      this.#at[position] = { drifted: uid };
      return null;
    }
    const hash = this.hashOf(uid, points!, count);
    this.#at[position] = { hash };
    return hash;
  }

  rows(inserted: number): SweptSliceRows {
    const hashes: string[] = [];
    const drifted: string[] = [];
    const driftedAt: number[] = [];
    for (let position = 0; position < this.#at.length; position++) {
      const seen = this.#at[position];
      // Every position from 0 up was called for, or the statement did not do what it says.
      if (seen === undefined) throw new Error(`the slice statement skipped position ${position} of ${this.#at.length}`);
      if ("hash" in seen) hashes.push(seen.hash);
      else {
        drifted.push(seen.drifted);
        driftedAt.push(hashes.length);
      }
    }
    return { checked: this.#at.length, lastUid: this.#lastUid, hashes, drifted, driftedAt, inserted };
  }
}

/**
 * The sweep's slice in one statement on a SQLite connection (`EngineAdapter.sweptUsers`):
 * SQLite cannot hash, so the statement calls back into this thread once per user, with
 * figures already compared in SQL; the callback hashes a settled user's `ok` line with
 * the same TypeScript the rest of the sweep uses (`hashOf`, `okLineHasher`), so hashes
 * equal `lineHash` by construction, and the insert stays in SQLite. No row is built in
 * JavaScript for the slice, and none crosses between threads.
 */
export function sweptUsersCallback(raw: BetterSqlite3.Database): SweptUsersInProcess {
  let seeing: SliceSeen | null = null;
  let registered = false;
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    userCall: (position, uid, settled, points, count) => sql`${sql.raw(FUNCTION_NAME)}(${position}, ${uid}, ${settled}, ${points}, ${count})`,
    async run(trx: Kysely<any>, statement: CompiledQuery, hashOf): Promise<SweptSliceRows> {
      if (!trx.isTransaction || !raw.inTransaction) throw new Error("a slice is swept inside a transaction");
      if (!registered) {
        // Not deterministic: SQLite must call it for every row, never reuse an answer.
        raw.function(FUNCTION_NAME, { deterministic: false }, (position, uid, settled, points, count) => {
          if (!seeing) throw new Error(`${FUNCTION_NAME} called outside a slice statement`);
          return seeing.see(position as number, uid as string, settled as number, points as number | null, count as number);
        });
        registered = true;
      }
      let prepared = statements.get(statement.sql);
      if (!prepared) {
        prepared = raw.prepare(statement.sql);
        statements.set(statement.sql, prepared);
      }
      const seen = new SliceSeen(hashOf);
      seeing = seen;
      try {
        const { changes } = prepared.run(...(statement.parameters as unknown[]));
        return seen.rows(changes);
      } finally {
        seeing = null;
      }
    },
  };
}

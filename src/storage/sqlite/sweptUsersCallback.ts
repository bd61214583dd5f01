import type BetterSqlite3 from "better-sqlite3";
import { sql, type CompiledQuery, type Kysely } from "kysely";
import type { SweptUsersInProcess } from "../EngineAdapter.js";

/** The SQL functions a slice statement calls (`okLineHash`, `notSettled`); registered on each connection that sweeps. */
const OK_LINE_HASH = "reckon_ok_line_hash";
const NOT_SETTLED = "reckon_not_settled";

/** What the statement running now hashes with and has noted. */
interface Running {
  hashOf(uid: string, points: number, count: number): string;
  notSettled: Set<string>;
}

/**
 * The sweep's slice in one statement on a SQLite connection (`EngineAdapter.sweptUsers`).
 * SQLite cannot hash, so the statement calls back into this thread for each settled
 * user's `ok` line, with figures already compared in SQL, and the callback hashes it with
 * the TypeScript the rest of the sweep uses (`okLineHasher`): the hashes equal `lineHash`
 * by construction, and the insert stays in SQLite. The few users not settled are noted
 * by a second callback, called only for them. Each call costs about a microsecond and a
 * half of argument passing, so the statement passes a settled user's three figures and
 * nothing else (docs/decisions/reconciliation-performance.md, "SQLite sweep, fifth round").
 */
export function sweptUsersCallback(raw: BetterSqlite3.Database): SweptUsersInProcess {
  let running: Running | null = null;
  let registered = false;
  const statements = new Map<string, BetterSqlite3.Statement>();
  const current = (name: string): Running => {
    if (!running) throw new Error(`${name} called outside a slice statement`);
    return running;
  };
  const register = () => {
    // Not deterministic: SQLite must call them for every row, never reuse an answer.
    raw.function(OK_LINE_HASH, { deterministic: false }, (uid, points, count) => current(OK_LINE_HASH).hashOf(uid as string, points as number, count as number));
    raw.function(NOT_SETTLED, { deterministic: false }, (uid) => {
      current(NOT_SETTLED).notSettled.add(uid as string);
      return 0;
    });
    registered = true;
  };
  return {
    okLineHash: (uid, points, count) => sql`${sql.raw(OK_LINE_HASH)}(${uid}, ${points}, ${count})`,
    notSettled: (uid) => sql`${sql.raw(NOT_SETTLED)}(${uid})`,
    async run(trx: Kysely<any>, statement: CompiledQuery, hashOf) {
      if (!trx.isTransaction || !raw.inTransaction) throw new Error("a slice is swept inside a transaction");
      if (!registered) register();
      let prepared = statements.get(statement.sql);
      if (!prepared) {
        prepared = raw.prepare(statement.sql);
        statements.set(statement.sql, prepared);
      }
      const seen: Running = { hashOf, notSettled: new Set() };
      running = seen;
      try {
        const { changes } = prepared.run(...(statement.parameters as unknown[]));
        return { inserted: changes, notSettled: [...seen.notSettled] };
      } finally {
        running = null;
      }
    },
  };
}

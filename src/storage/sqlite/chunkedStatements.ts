import type BetterSqlite3 from "better-sqlite3";

/**
 * Rows a statement of its own must carry at least; fewer are run one row per statement.
 * Starting a statement of many rows costs about as much as running a few dozen rows of it
 * (inserting 29 ledger entries, the size of a group commit, took 40 µs a row as one
 * statement, 54 as 16 + 8 + 4 + 1, 25 one row at a time with one prepared statement;
 * 500 rows took 20 µs a row as one statement, 22 one at a time; measured on a copy of a
 * benchmark's database, docs/decisions/sqlite-writer-thread.md).
 */
export const ONE_BY_ONE_BELOW = 128;

/**
 * How `total` rows are cut: `fullRows` at a time, then powers of two down to
 * `ONE_BY_ONE_BELOW`, then one row at a time (1,000 rows of 500 = 500 + 500;
 * 700 rows of 500 = 500 + 128 + 72 × 1).
 */
export function chunkSizes(total: number, fullRows: number): number[] {
  const sizes: number[] = [];
  let left = total;
  for (; left >= fullRows; left -= fullRows) sizes.push(fullRows);
  for (let size = 2 ** Math.floor(Math.log2(fullRows)); left > 0 && size >= ONE_BY_ONE_BELOW; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  for (; left > 0; left--) sizes.push(1);
  return sizes;
}

/** One SQL operation over many rows, run through a fixed few prepared statements. */
export interface ChunkedStatements {
  /**
   * Runs `rows`, each statement's parameters laid out row after row by `push`, and hands
   * back the rows the statements return (none unless the text has RETURNING).
   */
  run<T, R = never>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): R[];
  /** Runs `rows` as `run` does through a text without RETURNING, and hands back how many rows changed. */
  write<T>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): number;
}

/**
 * Prepared statements on the raw connection for one operation over many rows, cut by
 * `chunkSizes`: their texts never vary, so each is compiled once however many rows come;
 * large runs cross from JavaScript into SQLite once per statement, small ones once per row
 * through one prepared single-row statement, whichever costs less (`ONE_BY_ONE_BELOW`). `textFor(rows)` is the text for that
 * many rows; the caller keeps `fullRows` times its parameters per row under SQLite's
 * limit of 32,766, and runs it inside the transaction that holds the connection.
 */
export function chunkedStatements(raw: BetterSqlite3.Database, textFor: (rows: number) => string, fullRows: number): ChunkedStatements {
  const prepared = new Map<number, BetterSqlite3.Statement>();
  const statementFor = (rows: number) => {
    let statement = prepared.get(rows);
    if (!statement) {
      statement = raw.prepare(textFor(rows));
      prepared.set(rows, statement);
    }
    return statement;
  };
  return {
    run<T, R = never>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): R[] {
      const returned: R[] = [];
      let start = 0;
      for (const size of chunkSizes(rows.length, fullRows)) {
        const parameters: unknown[] = [];
        for (let index = start; index < start + size; index++) push(parameters, rows[index]!);
        const statement = statementFor(size);
        if (statement.reader) for (const row of statement.all(parameters) as R[]) returned.push(row);
        else statement.run(parameters);
        start += size;
      }
      return returned;
    },
    write<T>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): number {
      let changes = 0;
      let start = 0;
      for (const size of chunkSizes(rows.length, fullRows)) {
        const parameters: unknown[] = [];
        for (let index = start; index < start + size; index++) push(parameters, rows[index]!);
        changes += statementFor(size).run(parameters).changes;
        start += size;
      }
      return changes;
    },
  };
}

/** `(?, ?, …), (?, ?, …)…`: `rows` tuples of `columns` placeholders each. */
export function placeholderRows(rows: number, columns: number): string {
  const tuple = `(${Array.from({ length: columns }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => tuple).join(", ");
}

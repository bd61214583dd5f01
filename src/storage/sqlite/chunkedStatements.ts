import type BetterSqlite3 from "better-sqlite3";

/** How `total` rows are cut: `fullRows` at a time, then powers of two (100 rows of 64 = 64 + 32 + 4). */
export function chunkSizes(total: number, fullRows: number): number[] {
  const sizes: number[] = [];
  let left = total;
  for (; left >= fullRows; left -= fullRows) sizes.push(fullRows);
  for (let size = 2 ** Math.floor(Math.log2(fullRows)); left > 0 && size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/** One SQL operation over many rows, run through a fixed few prepared statements. */
export interface ChunkedStatements {
  /**
   * Runs `rows`, each statement's parameters laid out row after row by `push`, and hands
   * back the rows the statements return (none unless the text has RETURNING).
   */
  run<T, R = never>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): R[];
  /** As `run` for a text without RETURNING: how many rows the statements changed. */
  write<T>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): number;
}

/**
 * Prepared statements on the raw connection for one operation over many rows, cut by
 * `chunkSizes`: their texts never vary, so each is compiled once however many rows come,
 * and JavaScript crosses into SQLite once per statement instead of once per row (which
 * was most of the cost of one statement per row). `textFor(rows)` is the text for that
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
  const each = <T>(rows: readonly T[], push: (parameters: unknown[], row: T) => void, execute: (statement: BetterSqlite3.Statement, parameters: unknown[]) => void) => {
    let start = 0;
    for (const size of chunkSizes(rows.length, fullRows)) {
      const parameters: unknown[] = [];
      for (let index = start; index < start + size; index++) push(parameters, rows[index]!);
      execute(statementFor(size), parameters);
      start += size;
    }
  };
  return {
    run<T, R = never>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): R[] {
      const returned: R[] = [];
      each(rows, push, (statement, parameters) => {
        if (statement.reader) for (const row of statement.all(parameters) as R[]) returned.push(row);
        else statement.run(parameters);
      });
      return returned;
    },
    write<T>(rows: readonly T[], push: (parameters: unknown[], row: T) => void): number {
      let changes = 0;
      each(rows, push, (statement, parameters) => {
        changes += statement.run(parameters).changes;
      });
      return changes;
    },
  };
}

/** `(?, ?, …), (?, ?, …)…`: `rows` tuples of `columns` placeholders each. */
export function placeholderRows(rows: number, columns: number): string {
  const tuple = `(${Array.from({ length: columns }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => tuple).join(", ");
}

import { sql, type Kysely, type RawBuilder } from "kysely";
import { engineOf, type ValuesColumnType } from "./EngineAdapter.js";

/**
 * Bound parameters one statement may carry on both engines, with room to spare:
 * SQLite allows 32,766 and PostgreSQL 65,535.
 */
const MAX_PARAMETERS = 30_000;

/** Splits rows so that no statement built from one part carries more than MAX_PARAMETERS. */
export function statementChunks<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / parametersPerRow));
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  return chunks;
}

/**
 * `(values (…), (…)) as v`, whose columns are `v.column1`, `v.column2`, … on both
 * engines. Each cell is typed as the column it will be compared with or written to
 * (`EngineAdapter.valuesCell`), where the engine would otherwise guess text.
 */
export function valuesTable(
  db: Kysely<any>,
  types: readonly ValuesColumnType[],
  rows: readonly (readonly unknown[])[],
): RawBuilder<unknown> {
  const engine = engineOf(db);
  const tuples = rows.map((row) => {
    if (row.length !== types.length) throw new Error(`a VALUES row has ${row.length} columns, expected ${types.length}`);
    const cells = row.map((value, index) => engine.valuesCell(value, types[index]!));
    return sql`(${sql.join(cells)})`;
  });
  return sql`(values ${sql.join(tuples)}) as v`;
}

import { sql, type RawBuilder } from "kysely";
import { EXACT_POINTS_MAX_SQL } from "./exactFigures.js";

export interface UidRange {
  /** Exclusive; null means from the first user. */
  after: string | null;
  /** Inclusive; null means to the last user. */
  last: string | null;
}

/** The SQL condition that keeps `column` inside `range`. */
export function rangeOn(column: RawBuilder<unknown>, range: UidRange): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (range.after !== null) parts.push(sql`${column} > ${range.after}`);
  if (range.last !== null) parts.push(sql`${column} <= ${range.last}`);
  return parts.length === 0 ? sql`1 = 1` : sql.join(parts, sql` AND `);
}

/** `points` equals `total` and both are exact as JS numbers: the only case a sweep settles without a second look. */
export function settledOn(points: RawBuilder<unknown>, total: RawBuilder<unknown>): RawBuilder<unknown> {
  const max = sql.raw(EXACT_POINTS_MAX_SQL);
  return sql`(${points} = ${total} AND ${points} BETWEEN -${max} AND ${max})`;
}

import { sql, type RawBuilder } from "kysely";
import type { EngineAdapter } from "../storage/EngineAdapter.js";
import type { ReportLine } from "./reportHashes.js";
import { unreachable } from "../unreachable.js";

/**
 * The canonical form of a report line: the text its line hash covers, defined once here
 * field by field. `lineHash` (TypeScript, the hot path) and `lineHashSql` (the engine,
 * where it can hash) both produce it; `lineCanonicalForm.test.ts` holds them to this
 * definition, field by field, on both engines.
 */

/** How a field is written: a JSON string or a JSON integer, either of them possibly `null`. */
export type FieldEncoding = "string" | "integer" | "integer_or_null" | "string_or_null";

/** A line with the date of its run: everything its hash covers. */
export type DatedLine = ReportLine & { runDate: string };
export type CanonicalField = keyof DatedLine;

/** The fields every line's form holds, in order. */
export const LINE_FIELDS: readonly { field: CanonicalField; encoding: FieldEncoding }[] = [
  { field: "runDate", encoding: "string" },
  { field: "uid", encoding: "string" },
  { field: "walletPoints", encoding: "integer" },
  { field: "ledgerSum", encoding: "integer" },
  { field: "ledgerCount", encoding: "integer" },
  { field: "delta", encoding: "integer" },
  { field: "action", encoding: "string" },
  { field: "adjustmentEntryId", encoding: "integer_or_null" },
];

/** Appended only when the line has a reason, so lines written before refusals existed keep their hash. */
export const REFUSAL_FIELDS: readonly { field: CanonicalField; encoding: FieldEncoding }[] = [
  { field: "reason", encoding: "string" },
  { field: "detail", encoding: "string_or_null" },
];

/** One field as it appears in the form: what `JSON.stringify` gives for an integer, a string or null. */
export function encodeField(encoding: FieldEncoding, value: string | number | null): string {
  if (value === null) {
    if (encoding === "integer_or_null" || encoding === "string_or_null") return "null";
    throw new Error(`a ${encoding} field of a report line is null`);
  }
  if (encoding === "string" || encoding === "string_or_null") {
    if (typeof value !== "string") throw new Error(`a ${encoding} field of a report line holds ${typeof value}`);
    return JSON.stringify(value);
  }
  if (!Number.isSafeInteger(value)) throw new Error(`an integer field of a report line holds ${String(value)}`);
  return String(value);
}

/** The fields of `line`'s form, in order. */
export function fieldsOf(line: Pick<DatedLine, "reason">): readonly { field: CanonicalField; encoding: FieldEncoding }[] {
  return line.reason === null ? LINE_FIELDS : [...LINE_FIELDS, ...REFUSAL_FIELDS];
}

/** The canonical text of a line: the JSON array of its fields. */
export function canonicalText(line: DatedLine): string {
  return "[" + fieldsOf(line).map(({ field, encoding }) => encodeField(encoding, line[field])).join(",") + "]";
}

/**
 * Where a field comes from in SQL: a SQL expression (a column, typed as the field's
 * column is), or a value known when the statement is built, encoded here once instead
 * of once per row.
 */
export type FieldSource = RawBuilder<unknown> | { known: string | number | null };

/** SQL for one field as it appears in the form. */
export function encodeFieldSql(engine: EngineAdapter, encoding: FieldEncoding, value: RawBuilder<unknown>): RawBuilder<unknown> {
  switch (encoding) {
    case "string":
      return engine.jsonText(value);
    case "string_or_null":
      return sql`COALESCE(${engine.jsonText(value)}, 'null')`;
    case "integer":
      return sql`CAST(${value} AS TEXT)`;
    case "integer_or_null":
      return sql`COALESCE(CAST(${value} AS TEXT), 'null')`;
  }
  return unreachable(encoding, "encoding");
}

/**
 * SQL for the canonical text of lines whose fields come from `sources`. The refusal
 * fields are left out when `reason` is known to be null, and chosen per row otherwise.
 */
export function canonicalTextSql(engine: EngineAdapter, sources: Record<CanonicalField, FieldSource>): RawBuilder<unknown> {
  const pieces: (string | RawBuilder<unknown>)[] = [];
  const add = (piece: string | RawBuilder<unknown>) => {
    const last = pieces[pieces.length - 1];
    if (typeof piece === "string" && typeof last === "string") pieces[pieces.length - 1] = last + piece;
    else pieces.push(piece);
  };
  const addField = (field: CanonicalField, encoding: FieldEncoding) => {
    const source = sources[field];
    add("known" in source ? encodeField(encoding, source.known) : encodeFieldSql(engine, encoding, source));
  };
  add("[");
  LINE_FIELDS.forEach(({ field, encoding }, index) => {
    if (index > 0) add(",");
    addField(field, encoding);
  });
  const reason = sources.reason;
  if (!("known" in reason)) {
    const refusal: (string | RawBuilder<unknown>)[] = [];
    for (const { field, encoding } of REFUSAL_FIELDS) {
      const source = sources[field];
      refusal.push(",", "known" in source ? encodeField(encoding, source.known) : encodeFieldSql(engine, encoding, source));
    }
    add(sql`CASE WHEN ${reason} IS NULL THEN '' ELSE ${joinPieces(refusal)} END`);
  } else if (reason.known !== null) {
    for (const { field, encoding } of REFUSAL_FIELDS) {
      add(",");
      addField(field, encoding);
    }
  }
  add("]");
  return joinPieces(pieces);
}

function joinPieces(pieces: readonly (string | RawBuilder<unknown>)[]): RawBuilder<unknown> {
  return sql.join(
    pieces.map((piece) => (typeof piece === "string" ? sql`CAST(${piece} AS TEXT)` : piece)),
    sql` || `,
  );
}

/** SQL for the line hash of lines whose fields come from `sources`, or null where the engine cannot hash. */
export function lineHashSql(engine: EngineAdapter, sources: Record<CanonicalField, FieldSource>): RawBuilder<unknown> | null {
  return engine.sha256Hex === null ? null : engine.sha256Hex(canonicalTextSql(engine, sources));
}

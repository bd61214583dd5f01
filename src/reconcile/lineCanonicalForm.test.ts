import { hash } from "node:crypto";
import fc from "fast-check";
import { sql, type RawBuilder } from "kysely";
import { describe, expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { canonicalText, canonicalTextSql, encodeField, encodeFieldSql, fieldsOf, LINE_FIELDS, lineHashSql, REFUSAL_FIELDS, type CanonicalField, type DatedLine, type FieldSource } from "./lineCanonicalForm.js";
import { openRun } from "./openRun.js";
import { lineHash, okLineHasher } from "./reportHashes.js";
import { toLine } from "./summarizeLines.js";
import { settledLinesInsert } from "./writeLines.js";

const NOW = new Date("2026-04-02T03:00:00.000Z");

/** Characters JSON escapes, or that an engine might: quotes, backslashes, controls, DEL, separators, beyond the BMP. */
const AWKWARD = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\u0001", "\u001f", "\u007f", "\u0080", "\u2028", "\u2029", "é", "漢", "🙂"];
/** Any text PostgreSQL and SQLite can store: every code point but NUL, no lone surrogates. */
const text = fc
  .string({ unit: fc.oneof(fc.constantFrom(...AWKWARD), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), maxLength: 12 })
  .filter((value) => !value.includes("\u0000") && !/\p{Cs}/u.test(value));
const integer = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -1000, max: 1000 }));

const datedLine: fc.Arbitrary<DatedLine> = fc.record({
  runDate: text,
  uid: text,
  walletPoints: integer,
  ledgerSum: integer,
  ledgerCount: integer,
  delta: integer,
  action: text,
  adjustmentEntryId: fc.option(integer, { nil: null }),
  reason: fc.option(text, { nil: null }),
  detail: fc.option(text, { nil: null }),
}) as fc.Arbitrary<DatedLine>;

/** The model: the line as a plain JSON array, refusal fields only when it has a reason. */
function modelText(line: DatedLine): string {
  const base = [line.runDate, line.uid, line.walletPoints, line.ledgerSum, line.ledgerCount, line.delta, line.action, line.adjustmentEntryId];
  return JSON.stringify(line.reason === null ? base : [...base, line.reason, line.detail]);
}

const sha256 = (value: string) => hash("sha256", value, "hex");

describe("a report line's canonical form", () => {
  it("is the JSON array of its fields, and lineHash is its SHA-256, whatever the text and integers", () => {
    fc.assert(
      fc.property(datedLine, (line) => {
        const { runDate, ...reportLine } = line;
        expect(canonicalText(line)).toBe(modelText(line));
        expect(lineHash(runDate, reportLine)).toBe(sha256(modelText(line)));
        for (const { field, encoding } of fieldsOf(line)) expect(encodeField(encoding, line[field])).toBe(JSON.stringify(line[field]));
      }),
      { numRuns: 2000 },
    );
  });

  it("okLineHasher gives an `ok` line lineHash's hash, whatever the date, user and figures", () => {
    fc.assert(
      fc.property(text, text, integer, integer, (runDate, uid, points, count) => {
        const line = { uid, walletPoints: points, ledgerSum: points, ledgerCount: count, delta: 0, action: "ok" as const, adjustmentEntryId: null, reason: null, detail: null };
        expect(okLineHasher(runDate)(uid, points, count)).toBe(lineHash(runDate, line));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a field that cannot be written exactly", () => {
    expect(() => encodeField("integer", 2 ** 53)).toThrow(/integer field/);
    expect(() => encodeField("integer", 1.5)).toThrow(/integer field/);
    expect(() => encodeField("string", null)).toThrow(/null/);
  });
});

/** A field's value as a typed SQL parameter, the way its column holds it. */
function parameter(encoding: string, value: string | number | null): RawBuilder<unknown> {
  return encoding.startsWith("integer") ? sql`CAST(${value} AS BIGINT)` : sql`CAST(${value} AS TEXT)`;
}

describeEachEngine("the engine writes a line's canonical form as TypeScript does", (db) => {
  it("field by field, and whole, with some fields known when the statement is built; its hash equals lineHash where it hashes", async () => {
    const known = fc.record(Object.fromEntries([...LINE_FIELDS, ...REFUSAL_FIELDS].map(({ field }) => [field, fc.boolean()])) as Record<CanonicalField, fc.Arbitrary<boolean>>);
    await fc.assert(
      fc.asyncProperty(datedLine, known, async (line, isKnown) => {
        const engine = db().engine;
        const fields = [...LINE_FIELDS, ...REFUSAL_FIELDS];
        const sources = Object.fromEntries(
          fields.map(({ field, encoding }) => [field, isKnown[field] ? { known: line[field] } : parameter(encoding, line[field])]),
        ) as Record<CanonicalField, FieldSource>;
        const pieces = fieldsOf(line).map(({ field, encoding }) => encodeFieldSql(engine, encoding, parameter(encoding, line[field])));
        const hashSql = lineHashSql(engine, sources);
        const { rows } = await sql<{ piece: string }>`SELECT ${sql.join(pieces.map((piece, index) => sql`${piece} AS ${sql.ref(`f${index}`)}`))},
          ${canonicalTextSql(engine, sources)} AS whole, ${hashSql ?? sql`NULL`} AS hashed`.execute(db().kysely);
        const row = rows[0] as unknown as Record<string, string | null>;
        const expected = fieldsOf(line).map(({ field }) => JSON.stringify(line[field]));
        expect(fieldsOf(line).map((_, index) => row[`f${index}`])).toEqual(expected);
        expect(row.whole).toBe(modelText(line));
        if (hashSql !== null) expect(row.hashed).toBe(lineHash(line.runDate, line));
      }),
      { numRuns: 150 },
    );
  });

  it("the `ok` lines a sweep writes in one statement carry lineHash's hash, where the engine hashes in SQL", async () => {
    const opened = await openRun(db(), { date: "2026-04-01", policy: "report_only", chunkUsers: 1000, mode: "start", now: NOW });
    if (opened.outcome !== "opened") throw new Error(opened.outcome);
    const runId = opened.runId;
    const insert = (date: string) =>
      settledLinesInsert(db().engine, { runId, date }, { from: "settled_users", uid: sql.ref("uid"), points: sql.ref("points"), count: sql.ref("n"), where: sql`1 = 1` }, { keepEarlier: false });
    if (insert("any") === null) {
      // This engine hashes in TypeScript only: its sweep writes through writeLines.
      expect(db().engine.sha256Hex).toBeNull();
      return;
    }
    await sql`CREATE TABLE settled_users (uid TEXT PRIMARY KEY, points BIGINT NOT NULL, n BIGINT NOT NULL)`.execute(db().kysely);
    const users = fc.uniqueArray(fc.record({ uid: text, points: integer, n: fc.nat({ max: Number.MAX_SAFE_INTEGER }) }), { selector: (user) => user.uid, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(text, users, async (date, generated) => {
        await sql`DELETE FROM settled_users`.execute(db().kysely);
        await sql`DELETE FROM reconciliation_user_reports WHERE run_id = ${runId}`.execute(db().kysely);
        for (const user of generated) await sql`INSERT INTO settled_users VALUES (${user.uid}, ${user.points}, ${user.n})`.execute(db().kysely);
        await insert(date)!.execute(db().kysely);
        const rows = await db().kysely.selectFrom("reconciliation_user_reports").selectAll().where("run_id", "=", runId).execute();
        const written = new Map(rows.map((row) => [row.uid, row]));
        expect([...written.keys()].sort()).toEqual(generated.map((user) => user.uid).sort());
        for (const user of generated) {
          const line = { uid: user.uid, walletPoints: user.points, ledgerSum: user.points, ledgerCount: user.n, delta: 0, action: "ok" as const, adjustmentEntryId: null, reason: null, detail: null };
          const stored = toLine(written.get(user.uid)!);
          expect(stored).toEqual({ ...line, lineHash: lineHash(date, line) });
        }
      }),
      { numRuns: 60 },
    );
    await sql`DROP TABLE settled_users`.execute(db().kysely);
  });
});

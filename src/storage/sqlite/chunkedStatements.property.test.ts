import BetterSqlite3 from "better-sqlite3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkedStatements, chunkSizes, ONE_BY_ONE_BELOW, placeholderRows } from "./chunkedStatements.js";

describe("chunkedStatements: one operation over many rows through a few prepared statements", () => {
  it("cuts every row exactly once, no statement above its full size, and runs only the last few under ONE_BY_ONE_BELOW one at a time", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 1_000 }), (total, fullRows) => {
        const sizes = chunkSizes(total, fullRows);
        expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(total);
        for (const size of sizes) expect(size === 1 || size === fullRows || (size >= ONE_BY_ONE_BELOW && size <= fullRows)).toBe(true);
        // Single rows come last, and fewer of them than one statement of ONE_BY_ONE_BELOW would hold.
        const singles = sizes.filter((size) => size === 1 && fullRows !== 1).length;
        expect(singles).toBeLessThan(ONE_BY_ONE_BELOW);
        if (fullRows !== 1) expect(sizes.slice(sizes.length - singles).every((size) => size === 1)).toBe(true);
      }),
    );
  });

  it("inserts every row once and hands back every returned row, whatever the count and full size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 1, max: 300 }), (total, fullRows) => {
        const raw = new BetterSqlite3(":memory:");
        try {
          raw.exec("create table t (id integer primary key autoincrement, k text not null unique, v integer not null)");
          const statements = chunkedStatements(raw, (count) => `insert into t (k, v) values ${placeholderRows(count, 2)} returning id, k`, fullRows);
          const rows = Array.from({ length: total }, (_, index) => ({ k: `key ${index}`, v: index * 3 }));
          raw.exec("begin immediate");
          const returned = statements.run<{ k: string; v: number }, { id: number; k: string }>(rows, (parameters, row) => parameters.push(row.k, row.v));
          raw.exec("commit");
          const stored = raw.prepare("select id, k, v from t order by id").all() as { id: number; k: string; v: number }[];
          expect(stored.map(({ k, v }) => ({ k, v }))).toEqual(rows);
          expect(new Map(returned.map((row) => [row.k, row.id]))).toEqual(new Map(stored.map((row) => [row.k, row.id])));
        } finally {
          raw.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

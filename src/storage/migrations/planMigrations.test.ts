import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MigrationScript } from "./MigrationScript.js";
import { planMigrations, type AppliedMigration, type MigrationPlan } from "./planMigrations.js";

const scriptsUpTo = (count: number): MigrationScript[] =>
  Array.from({ length: count }, (_, index) => ({ id: index + 1, name: `m${index + 1}`, sql: `-- ${index + 1}` }));

/**
 * The rule walked number by number: the first number whose row is missing while a later
 * one ran, or whose name differs, is where the histories diverge; otherwise numbers past
 * the build make the database newer; otherwise what did not run is pending.
 */
function model(applied: AppliedMigration[], scripts: MigrationScript[]): MigrationPlan {
  const byId = new Map(applied.map((row) => [row.id, row.name]));
  const highest = Math.max(0, ...applied.map((row) => row.id));
  for (const script of scripts) {
    const name = byId.get(script.id);
    if (name === undefined && highest > script.id) return { plan: "diverged", id: script.id, databaseName: null, codeName: script.name };
    if (name !== undefined && name !== script.name) return { plan: "diverged", id: script.id, databaseName: name, codeName: script.name };
  }
  const unknown = applied.filter((row) => row.id > scripts.length).sort((a, b) => a.id - b.id);
  if (unknown.length > 0) return { plan: "newer", unknown, latestKnown: scripts.length };
  return { plan: "apply", pending: scripts.filter((script) => !byId.has(script.id)) };
}

/** A history: some numbers up to three past the build, mostly under their right names. */
const history = fc.integer({ min: 0, max: 8 }).chain((count) =>
  fc.record({
    count: fc.constant(count),
    applied: fc
      .subarray(Array.from({ length: count + 3 }, (_, index) => index + 1))
      .chain((ids) =>
        fc.tuple(...ids.map((id) => fc.oneof({ weight: 5, arbitrary: fc.constant(`m${id}`) }, { weight: 1, arbitrary: fc.constant(`fork${id}`) }))).map(
          (names) => ids.map((id, index) => ({ id, name: names[index]! })),
        ),
      ),
  }),
);

describe("planMigrations", () => {
  it("agrees with the number-by-number rule for any history", () => {
    fc.assert(
      fc.property(history, ({ count, applied }) => {
        const scripts = scriptsUpTo(count);
        // Row order in the table says nothing: the plan must not depend on it.
        expect(planMigrations([...applied].reverse(), scripts)).toEqual(model(applied, scripts));
      }),
      { numRuns: 500 },
    );
  });

  it("runs a prefix's remainder in order, and nothing once every migration ran", () => {
    const scripts = scriptsUpTo(4);
    expect(planMigrations([{ id: 1, name: "m1" }, { id: 2, name: "m2" }], scripts)).toEqual({ plan: "apply", pending: scripts.slice(2) });
    expect(planMigrations(scripts, scripts)).toEqual({ plan: "apply", pending: [] });
  });

  it("calls a database with one migration past the build newer, and one missing a migration below a later one diverged", () => {
    const scripts = scriptsUpTo(2);
    const all = [{ id: 1, name: "m1" }, { id: 2, name: "m2" }];
    expect(planMigrations([...all, { id: 3, name: "m3" }], scripts)).toEqual({ plan: "newer", unknown: [{ id: 3, name: "m3" }], latestKnown: 2 });
    expect(planMigrations([{ id: 1, name: "m1" }, { id: 3, name: "m3" }], scripts)).toEqual({ plan: "diverged", id: 2, databaseName: null, codeName: "m2" });
  });
});

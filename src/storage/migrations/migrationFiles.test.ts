import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LEGACY_IDS } from "./legacyIds.js";
import { postgresMigrations } from "./postgres.js";
import { sqliteMigrations } from "./sqlite.js";

const ENGINE_LISTS = { sqlite: sqliteMigrations, postgres: postgresMigrations };

/** The files in an engine's folder, whatever their names: one the loader skipped would be lost. */
function filesOf(engine: string): string[] {
  return readdirSync(new URL(`./${engine}/`, import.meta.url)).sort();
}

describe("migration files", () => {
  for (const [engine, scripts] of Object.entries(ENGINE_LISTS)) {
    it(`${engine}: every file is NNNN-name.ts and became a migration`, () => {
      const files = filesOf(engine);
      for (const file of files) expect(file).toMatch(/^\d{4}-[a-z0-9_]+\.ts$/);
      expect(scripts.map((script) => `${String(script.id).padStart(4, "0")}-${script.name}.ts`)).toEqual(files);
    });

    it(`${engine}: numbers run 1, 2, 3… without a gap or a repeat`, () => {
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.map((script) => script.id)).toEqual(scripts.map((_, index) => index + 1));
    });

    it(`${engine}: every migration has SQL`, () => {
      for (const script of scripts) expect(script.sql.trim()).not.toBe("");
    });
  }

  it("both engines hold the same migrations: the same numbers with the same names", () => {
    const idsAndNames = (list: typeof sqliteMigrations) => list.map(({ id, name }) => ({ id, name }));
    expect(idsAndNames(postgresMigrations)).toEqual(idsAndNames(sqliteMigrations));
  });

  it("every legacy id names a migration that still exists, one below its old number, in order", () => {
    for (const { name, legacyId } of LEGACY_IDS) {
      expect(sqliteMigrations.find((script) => script.name === name)?.id).toBe(legacyId - 1);
    }
    expect(LEGACY_IDS.map((entry) => entry.legacyId)).toEqual([5, 6, 7, 8, 9, 10]);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runReckon } from "../../test/support/runReckon.js";

const packageVersion = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

describe("reckon --version", () => {
  // No DATABASE_URL or any other setting: asking the version must not need a configuration.
  for (const flag of ["--version", "-V"]) {
    it(`${flag} prints package.json's version and exits 0`, async () => {
      const result = await runReckon([flag], {});
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${packageVersion}\n`);
      expect(result.stderr).toBe("");
    });
  }
});

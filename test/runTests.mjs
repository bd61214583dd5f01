#!/usr/bin/env node
// Runs the whole suite with vitest, then reads its JSON report to print one closing line
// ("tests: N passed, N failed") and to fail when an engine's half of the suite did not run:
// a PostgreSQL that was silently skipped must never look like a green run.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";

const report = ".test-results/vitest.json";
rmSync(report, { force: true });
mkdirSync(".test-results", { recursive: true });
const vitest = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" },
);

let results;
try {
  results = JSON.parse(readFileSync(report, "utf8"));
} catch {
  console.error("tests: no report was written; vitest did not finish");
  process.exit(vitest.status || 1);
}

const tests = results.testResults.flatMap((file) => file.assertionResults);
const count = (status) => tests.filter((test) => test.status === status).length;
const engines = (process.env.RECKON_TEST_ENGINES ?? "sqlite,postgres").split(",").map((name) => name.trim());
let ok = vitest.status === 0 && count("failed") === 0;
for (const engine of engines) {
  const ran = tests.filter((test) => test.status === "passed" && test.fullName.includes(`[${engine}]`)).length;
  console.log(`engine ${engine}: ${ran} tests passed`);
  if (ran === 0) {
    console.error(`tests: the ${engine} suite did not run; start the database or set RECKON_TEST_ENGINES`);
    ok = false;
  }
}
console.log(`tests: ${count("passed")} passed, ${count("failed")} failed, ${count("skipped") + count("pending")} skipped`);
process.exit(ok ? 0 : 1);

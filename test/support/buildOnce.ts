import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./reckonCommand.js";

/**
 * Vitest's global setup: compiles `src` into `dist` (`npm run build`) once before any test
 * file runs, so every test that starts a `reckon` process runs this tree's code, never a
 * stale build.
 */
export default function setup(): void {
  execFileSync(process.execPath, [resolve(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
}

import { resolve } from "node:path";

/** The repository's root. */
export const ROOT = resolve(import.meta.dirname, "../..");

/**
 * How tests start the real `reckon` process: `node bin/reckon.js …`, the compiled build
 * that `npm start` and operators run, made once per test run by test/support/buildOnce.ts.
 * Starting from source through tsx took twice as long per process (2.1 s against 1.1 s
 * for `reckon --version` on an idle machine), and the suite starts hundreds of them.
 */
export function reckonArgs(args: readonly string[]): string[] {
  return [resolve(ROOT, "bin/reckon.js"), ...args];
}

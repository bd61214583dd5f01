import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type ResourceLimits } from "node:worker_threads";

/**
 * Starts a thread on the module `name` next to `callerUrl` (the caller's `import.meta.url`).
 * From built JavaScript the thread runs `name.js`; from the TypeScript sources (tests,
 * `tsx`) it loads `name.ts` through tsx's loader. `resourceLimits` bounds its heap.
 */
export function startModuleWorker(callerUrl: string, name: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const fromSources = callerUrl.endsWith(".ts");
  const entry = new URL(`./${name}.${fromSources ? "ts" : "js"}`, callerUrl);
  if (!fromSources) return new Worker(entry, { workerData, resourceLimits });
  // tsx's ESM entry (its package's `exports`, `import` condition); its `register` hooks the thread's imports.
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const tsxApi = pathToFileURL(join(dirname(manifestPath), manifest.exports["./esm/api"]!.import.default)).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

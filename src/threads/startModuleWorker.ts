import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type ResourceLimits } from "node:worker_threads";

/**
 * Starts a worker thread on the module beside `from` named `name` (no extension): its
 * `.js` from built JavaScript, its `.ts` from the TypeScript sources (tests, `tsx`),
 * loaded through tsx's loader, which a new thread does not inherit. `resourceLimits` bound
 * the thread's own V8 heap.
 */
export function startModuleWorker(from: string, name: string, workerData: unknown, resourceLimits: ResourceLimits = {}): Worker {
  const fromSources = from.endsWith(".ts");
  const entry = new URL(`./${name}${fromSources ? ".ts" : ".js"}`, from);
  if (!fromSources) return new Worker(entry, { workerData, resourceLimits });
  // tsx's ESM entry (its package's `exports`, `import` condition); its `register` hooks the thread's imports.
  const require = createRequire(from);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const tsxApi = pathToFileURL(join(dirname(manifestPath), manifest.exports["./esm/api"]!.import.default)).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The bench files the measured process runs, and what their imports of the sources become. */
const FILES = ["bench/reconcile/reconcileUnderLoad.ts", "bench/reconcile/memorySampler.ts", "bench/paynowLoad.ts", "bench/procStat.ts"];

/**
 * Builds what `reckon serve` runs (`npm run build`: `dist/`, the webhook writer thread's
 * entry included) and the measured process's own bench files beside it, in `dist/bench/`,
 * their imports of `src/` pointed at `dist/`. The measured process then runs under plain
 * `node`, as the server does: under `tsx` it carried tsx's loader thread and compiled
 * sources, and the writer thread loaded its modules through tsx again, about 80 MiB of
 * resident memory the server does not have (docs/decisions/reconciliation-reader-thread.md,
 * "Peak RSS"). Returns the path of the measured process's entry.
 */
export function buildMeasured(): string {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  for (const file of FILES) {
    const source = readFileSync(join(root, file), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
      fileName: file,
    });
    const out = join(root, "dist", file.replace(/\.ts$/, ".js"));
    // From dist/bench/…, the sources' build is where src/ was from bench/….
    const toSources = relative(dirname(join(root, file)), join(root, "src")).replaceAll("\\", "/");
    const toBuild = relative(dirname(out), join(root, "dist")).replaceAll("\\", "/");
    const rewritten = outputText.replaceAll(`"${toSources}/`, `"${toBuild}/`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, rewritten);
  }
  return join(root, "dist", "bench/reconcile/reconcileUnderLoad.js");
}

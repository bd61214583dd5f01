import { format } from "node:util";
import { buildProgram } from "../../src/cli/program.js";
import type { ReckonResult } from "./runReckon.js";

/**
 * Runs a `reckon` command through the real command tree in this process, with `env` as
 * its whole environment: what `runReckon` does without paying for a new Node process
 * (seconds each on a loaded machine). Output is captured; the exit code is what the
 * command set, or 1 when it threw, as bin/reckon does.
 */
export async function runReckonInProcess(args: string[], env: Record<string, string>): Promise<ReckonResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error, exitCode: process.exitCode };
  console.log = (...values: unknown[]) => void out.push(format(...values));
  console.error = (...values: unknown[]) => void err.push(format(...values));
  process.exitCode = undefined;
  let code: number;
  try {
    await buildProgram(env).parseAsync(["node", "reckon", ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (error) {
    err.push(`reckon: ${(error as Error).message}`);
    code = 1;
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    process.exitCode = saved.exitCode;
  }
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

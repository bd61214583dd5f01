import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { reckonArgs } from "./reckonCommand.js";

const run = promisify(execFile);

export interface ReckonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `reckon` command (the compiled build, test/support/reckonCommand.ts) with only the variables given. With
 * `timeoutMs`, a command still running then is killed (its `code` is then not a number),
 * so a server that should have refused to start cannot hang the test.
 */
export async function runReckon(args: string[], env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ReckonResult> {
  try {
    const result = await run(process.execPath, reckonArgs(args), {
      env: { PATH: process.env.PATH ?? "", ...env },
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    return { code: 0, stdout: result.stdout, stderr: result.stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

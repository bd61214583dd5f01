import { spawn } from "node:child_process";
import { reckonArgs } from "./reckonCommand.js";

export interface SecondInstance {
  url: string;
  /** The process `reckon` runs in (with `serve --workers`, the primary). */
  pid: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then resolves with its exit code once it has exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts `reckon serve` in its own process on `databaseUrl` (loopback, a port the OS
 * picks, the nightly schedule off): an instance that ran none of the test's jobs.
 */
export function startSecondInstance(databaseUrl: string, timeoutMs = 60_000): Promise<SecondInstance> {
  return startReckonServer(["serve"], { ENVIRONMENT: "test", DATABASE_URL: databaseUrl }, timeoutMs);
}

/**
 * Starts `reckon <args>` (a serving command) in its own process with `env` besides
 * loopback, a port the OS picks and the nightly schedule off; resolves once it listens.
 */
export async function startReckonServer(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<SecondInstance> {
  const child = spawn(process.execPath, reckonArgs(args), {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", RECONCILIATION_ENABLED: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  let output = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`reckon serve did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolveUrl(found[1]!);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`reckon serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

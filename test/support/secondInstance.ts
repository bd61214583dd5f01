import { spawn } from "node:child_process";

export interface SecondInstance {
  url: string;
  /** The process `reckon serve` runs in (with `--workers`, the primary). */
  pid: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then resolves with its exit code once it has exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts `reckon serve` in its own process on `databaseUrl` (loopback, a port the OS
 * picks, the nightly schedule off): an instance that ran none of the test's jobs.
 * `args` go after `serve` (e.g. `--workers 2`), `env` over the defaults.
 */
export async function startSecondInstance(
  databaseUrl: string,
  timeoutMs = 60_000,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<SecondInstance> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", ...(options.args ?? [])], {
    env: {
      PATH: process.env.PATH ?? "",
      ENVIRONMENT: "test",
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      PORT: "0",
      RECONCILIATION_ENABLED: "0",
      LOG_LEVEL: "warn",
      ...options.env,
    },
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

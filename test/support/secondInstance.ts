import { spawn } from "node:child_process";

export interface SecondInstance {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `reckon serve` in its own process on `databaseUrl` (loopback, a port the OS
 * picks, the nightly schedule off): an instance that ran none of the test's jobs.
 */
export async function startSecondInstance(databaseUrl: string, timeoutMs = 60_000): Promise<SecondInstance> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
    env: { PATH: process.env.PATH ?? "", ENVIRONMENT: "test", DATABASE_URL: databaseUrl, HOST: "127.0.0.1", PORT: "0", RECONCILIATION_ENABLED: "0", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let output = "";
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
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

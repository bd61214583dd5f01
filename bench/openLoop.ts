import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";

/** One request of an open-loop run: built at its scheduled send time. */
export interface Shot {
  path: string;
  body: string;
  headers: Record<string, string>;
  /** Passed back with the answer, e.g. the event id. */
  tag: string;
}

export interface Answer {
  tag: string;
  status: number;
  latencyMs: number;
}

export interface OpenLoopResult {
  offeredPerSecond: number;
  sent: number;
  answers: Answer[];
  /** Connection errors and timeouts: requests that got no status at all. */
  errors: number;
  elapsedMs: number;
}

/**
 * Sends `ratePerSecond` requests per second for `durationMs`, each at its scheduled
 * time whether or not earlier ones were answered (open loop), and measures each
 * latency from its scheduled time, so a slow server cannot hide its queue.
 */
export async function runOpenLoop(options: {
  port: number;
  ratePerSecond: number;
  durationMs: number;
  shot: (index: number) => Shot;
  timeoutMs?: number;
  /** Called with every answer as it arrives. */
  onAnswer?: (answer: Answer) => void;
  /** Checked before each send: true stops the schedule early (the crash test's kill). */
  shouldStop?: () => boolean;
}): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let total = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  const answers: Answer[] = [];
  let errors = 0;
  let finished = 0;
  const start = performance.now();
  let next = 0;
  await new Promise<void>((resolveRun) => {
    const send = (index: number, scheduledAt: number) => {
      const shot = options.shot(index);
      const req = request(
        { host: "127.0.0.1", port: options.port, method: "POST", path: shot.path, agent, headers: { ...shot.headers, "content-length": Buffer.byteLength(shot.body) }, timeout: options.timeoutMs ?? 30_000 },
        (res) => {
          res.resume();
          res.on("end", () => {
            const answer = { tag: shot.tag, status: res.statusCode ?? 0, latencyMs: performance.now() - scheduledAt };
            answers.push(answer);
            options.onAnswer?.(answer);
            done();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        errors++;
        done();
      });
      req.end(shot.body);
    };
    const done = () => {
      finished++;
      if (finished === total && next === total) resolveRun();
    };
    const tick = () => {
      if (options.shouldStop?.()) {
        total = next;
        if (finished === total) resolveRun();
        return;
      }
      const elapsed = performance.now() - start;
      while (next < total && (next * 1000) / options.ratePerSecond <= elapsed) {
        send(next, start + (next * 1000) / options.ratePerSecond);
        next++;
      }
      if (next < total) setTimeout(tick, 1);
    };
    if (total === 0) resolveRun();
    else tick();
  });
  agent.destroy();
  return { offeredPerSecond: options.ratePerSecond, sent: total, answers, errors, elapsedMs: performance.now() - start };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Achieved rate and latency percentiles of the 2xx answers. */
export function summarise(result: OpenLoopResult) {
  const ok = result.answers.filter((answer) => answer.status >= 200 && answer.status < 300);
  const latencies = ok.map((answer) => answer.latencyMs).sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    offeredPerSecond: result.offeredPerSecond,
    sent: result.sent,
    acked: ok.length,
    refused: result.answers.length - ok.length,
    errors: result.errors,
    achievedPerSecond: Math.round((ok.length * 1000) / result.elapsedMs),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
    },
  };
}

/** Starts `bench/webhookServer.ts` in its own process and resolves with its port. */
export function startServer(
  mode: "reckon" | "bare",
  env: Record<string, string>,
  nodeArgs: string[] = [],
  startTimeoutMs = 30_000,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", new URL("./webhookServer.ts", import.meta.url).pathname, mode], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rejectStart(new Error(`${mode} server did not start in ${startTimeoutMs / 1000} s`));
    }, startTimeoutMs);
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolveStart({ child, port: Number(match[1]) });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`${mode} server exited with ${code}`));
    });
  });
}

export function stopServer(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    child.once("exit", () => resolveStop());
    child.kill(signal);
  });
}

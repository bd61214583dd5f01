import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { send } from "./http.js";
import { spawnReckon } from "./reckonCli.js";

/** A free loopback port, kept for one instance across its restarts. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, rejectPort) => {
    const server = createServer();
    server.once("error", rejectPort);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

interface Instance {
  port: number;
  child: ChildProcess | null;
  up: boolean;
  starts: number;
}

/** An instance that ended without being killed by the proof. */
export interface UnexpectedExit {
  instance: number;
  code: number | null;
  signal: string | null;
  lastLog: string;
}

/**
 * K `reckon serve` processes sharing one database, each on its own port for its whole
 * life: a killed instance is restarted on the same port, as a supervisor would.
 */
export class Instances {
  readonly #instances: Instance[] = [];
  readonly #killed = new WeakSet<ChildProcess>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  #log: string[] = [];

  constructor(private readonly env: Record<string, string>) {}

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i++) this.#instances.push({ port: await freePort(), child: null, up: false, starts: 0 });
    await Promise.all(this.#instances.map((_, index) => this.restart(index)));
  }

  get count(): number {
    return this.#instances.length;
  }

  port(index: number): number {
    return this.#instances[index]!.port;
  }

  /** Indexes of instances believed up; a request to one that just died is retried elsewhere. */
  live(): number[] {
    return this.#instances.flatMap((instance, index) => (instance.up ? [index] : []));
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests are cut. */
  async kill(index: number): Promise<void> {
    const instance = this.#instances[index]!;
    instance.up = false;
    const child = instance.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.#killed.add(child);
    await new Promise<void>((resolveExit) => {
      child.once("exit", () => resolveExit());
      child.kill("SIGKILL");
    });
  }

  /**
   * Starts (or restarts) an instance on its port and waits until /readyz answers 200.
   * An instance that exits while starting (its database unreachable mid-failover) is
   * started again, as a supervisor would, until `timeoutMs`.
   */
  async restart(index: number, timeoutMs = 90_000): Promise<void> {
    const instance = this.#instances[index]!;
    const deadline = Date.now() + timeoutMs;
    let child = this.#spawn(index);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 500));
        child = this.#spawn(index);
        continue;
      }
      const ready = await send(instance.port, "GET", "/readyz", {}, undefined, 2_000);
      if (ready.status === 200) {
        instance.up = true;
        return;
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    throw new Error(`instance ${index} not ready in ${timeoutMs} ms:\n${this.#log.slice(-10).join("\n")}`);
  }

  #spawn(index: number): ChildProcess {
    const instance = this.#instances[index]!;
    const child = spawnReckon(["serve"], { ...this.env, PORT: String(instance.port) });
    instance.child = child;
    instance.starts++;
    child.stdout!.resume();
    child.once("exit", (code, signal) => {
      // Exits while starting are retried by `restart`; a running instance that ends on its own is a finding.
      if (this.#killed.has(child) || !instance.up || instance.child !== child) return;
      instance.up = false;
      this.unexpectedExits.push({ instance: index, code, signal, lastLog: this.#log.filter((line) => line.startsWith(`[instance ${index}]`)).slice(-3).join(" | ").slice(0, 600) });
      // As a supervisor would: start it again.
      void this.restart(index).catch(() => undefined);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      this.#log.push(`[instance ${index}] ${chunk.toString().trimEnd()}`);
      if (this.#log.length > 200) this.#log.shift();
    });
    return child;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.#instances.map(async (instance) => {
        instance.up = false;
        const child = instance.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        this.#killed.add(child);
        await new Promise<void>((resolveExit) => {
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolveExit();
          });
          child.kill("SIGTERM");
        });
      }),
    );
  }

  recentLog(): string[] {
    return this.#log.slice(-20);
  }
}

import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { signPaynow } from "../providers/paynow/verifyPaynowSignature.js";
import { runReckon } from "../../test/support/runReckon.js";
import { startReckonServer, type SecondInstance } from "../../test/support/secondInstance.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, makeSecrets, paynowOrder, type WebhookSecrets } from "../../test/support/webhookFixtures.js";
import { resolveWorkers, workerPoolSize } from "./serveWorkers.js";

const PRODUCT = "prod_workers";
const POINTS_PER_UNIT = 7;

/** The reckon processes whose parent is `pid` (Linux /proc): its workers, not tsx's esbuild service. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("bin/reckon.js")) children.push(Number(name));
    } catch {
      // The process ended while we read.
    }
  }
  return children;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pids in the server's JSON request logs (pino writes each process's own pid). */
function requestPids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as { pid?: number; msg?: string };
    if (parsed.msg === "request completed" && parsed.pid) pids.add(parsed.pid);
  }
  return pids;
}

if (ENGINES.includes("postgres")) {
  describe("reckon serve --workers 2 [postgres]", () => {
    let database: TestDatabase;
    let server: SecondInstance;
    let secrets: WebhookSecrets;
    /** What the test sent and got a 200 for: order id -> (uid, points). Its own model of the wallets. */
    const acked = new Map<string, { uid: string; points: number; eventId: string }>();

    async function deliver(payload: ReturnType<typeof paynowOrder>): Promise<number> {
      const body = JSON.stringify(payload);
      const timestampMs = Date.now();
      const response = await fetch(`${server.url}/api/webhooks/paynow`, {
        method: "POST",
        headers: { "content-type": "application/json", "paynow-timestamp": String(timestampMs), "paynow-signature": signPaynow(secrets.paynow[0]!, timestampMs, body) },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    }

    /** `count` unique orders, each delivered twice, `concurrency` requests in flight; every answer must be 200. */
    async function load(count: number, concurrency: number): Promise<void> {
      const orders = Array.from({ length: count }, (_, index) => {
        const quantity = 1 + (index % 4);
        const uid = `worker_user_${index % 9}`;
        return { uid, quantity, payload: paynowOrder({ orderId: `ord_${acked.size}_${index}_${Date.now()}`, uid, lines: [{ productId: PRODUCT, quantity }], totalMinor: 500 * quantity }) };
      });
      const queue = [...orders, ...orders];
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let order = queue.shift(); order; order = queue.shift()) {
            const status = await deliver(order.payload);
            statuses.push(status);
            if (status === 200) acked.set(order.payload.body.id, { uid: order.uid, points: order.quantity * POINTS_PER_UNIT, eventId: order.payload.event_id });
          }
        }),
      );
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
    }

    /** Every ACKed order stored once and credited once; every wallet equals the model's sum. */
    async function expectStoredOnce(): Promise<void> {
      const db = database.db.kysely;
      const events = await db.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").execute();
      expect(events.length).toBe(acked.size);
      expect(new Set(events.map((row) => row.event_id))).toEqual(new Set([...acked.values()].map((order) => order.eventId)));
      expect(events.every((row) => row.status === "processed")).toBe(true);
      const entries = await db.selectFrom("ledger_entries").select(["idempotency_key", "uid", "amount"]).where("kind", "=", "purchase").execute();
      expect(entries.length).toBe(acked.size);
      const expected = new Map<string, number>();
      for (const order of acked.values()) expected.set(order.uid, (expected.get(order.uid) ?? 0) + order.points);
      const wallets = await db.selectFrom("wallets").select(["uid", "points"]).execute();
      expect(new Map(wallets.map((row) => [row.uid, Number(row.points)]))).toEqual(expected);
    }

    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      await catalogue(database.db, "paynow", PRODUCT, POINTS_PER_UNIT);
      secrets = makeSecrets();
      server = await startReckonServer(
        ["serve", "--workers", "2"],
        { ENVIRONMENT: "test", DATABASE_URL: database.url, LOG_LEVEL: "info", PAYNOW_WEBHOOK_SECRETS: secrets.paynow.join(",") },
        90_000,
      );
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await database?.drop();
    });

    it("forks two workers that share the port, each with half the pool", async () => {
      // The server counts as started at the first worker's "listening"; the primary says so once all listen.
      for (const until = Date.now() + 30_000; !server.output().includes("workers listening"); ) {
        if (Date.now() > until) throw new Error(`the primary never reported its workers listening:\n${server.output()}`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
      const workers = childrenOf(server.pid);
      expect(workers).toHaveLength(2);
      expect(server.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(server.output()).toContain('"poolSizePerWorker":5');
    });

    it("stores and credits every ACKed concurrent delivery once, answered by both workers", async () => {
      await load(150, 24);
      await expectStoredOnce();
      const workers = childrenOf(server.pid);
      const served = requestPids(server.output());
      expect([...served].sort()).toEqual([...workers].sort());
    }, 90_000);

    it("restarts a worker that dies, and keeps storing every delivery once", async () => {
      const [victim, survivor] = childrenOf(server.pid);
      process.kill(victim!, "SIGKILL");
      await until("the restart", () => server.output().includes("worker died; restarting it"));
      await until("a new worker", () => childrenOf(server.pid).length === 2 && !childrenOf(server.pid).includes(victim!));
      expect(childrenOf(server.pid)).toContain(survivor);
      await load(40, 8);
      await expectStoredOnce();
    }, 90_000);

    it("stops every worker and exits 0 on SIGTERM", async () => {
      const workers = childrenOf(server.pid);
      expect(workers).toHaveLength(2);
      expect(await server.stop()).toBe(0);
      await until("the workers to exit", () => workers.every((pid) => !alive(pid)), 10_000);
    }, 60_000);
  });
}

if (ENGINES.includes("sqlite")) {
  describe("reckon serve --workers on SQLite [sqlite]", () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase("sqlite");
    });
    afterAll(async () => {
      await database?.drop();
    });

    it("refuses more than one worker with a clear message and exit code 2, serving nothing", async () => {
      const env = { ENVIRONMENT: "test", DATABASE_URL: database.url, HOST: "127.0.0.1", PORT: "0", RECONCILIATION_ENABLED: "0" };
      const refused = await runReckon(["serve", "--workers", "2"], env, { timeoutMs: 60_000 });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("--workers 2 needs PostgreSQL");
      expect(refused.stdout).not.toContain("listening");
    }, 90_000);

    it("takes auto as one process on SQLite and one per core on PostgreSQL; refuses a count that is not a number", async () => {
      const sqlite = loadConfig({ ENVIRONMENT: "test", DATABASE_URL: database.url });
      const postgres = loadConfig({ ENVIRONMENT: "test", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/none" });
      expect(resolveWorkers("auto", sqlite)).toBe(1);
      expect(resolveWorkers("auto", postgres)).toBeGreaterThanOrEqual(1);
      expect(resolveWorkers(1, sqlite)).toBe(1);
      const bad = await runReckon(["serve", "--workers", "0"], { ENVIRONMENT: "test", DATABASE_URL: database.url }, { timeoutMs: 60_000 });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("expected auto or a whole number from 1 to 64");
    }, 90_000);

    it("splits DB_POOL_SIZE between workers, never below 2 each", () => {
      expect([workerPoolSize(10, 1), workerPoolSize(10, 2), workerPoolSize(10, 4), workerPoolSize(3, 4)]).toEqual([10, 5, 3, 2]);
    });
  });
}

import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { insertEvents, receivedOrderRows } from "../../test/support/storedOrders.js";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue } from "../../test/support/webhookFixtures.js";
import type { Db } from "../storage/openDatabase.js";
import { backfillDeps } from "./backfillDeps.js";
import { startBackfill } from "./startBackfill.js";

const EVENTS = 1500;
/** These tests start two CLI processes through tsx; on a loaded machine each start-up alone takes seconds. */
const CLI_TEST_TIMEOUT_MS = 150_000;
const DAY = "2026-01-01";

/** What a run leaves behind, without the times that differ between two runs. */
async function outcome(db: Db) {
  const wallets = await db.kysely.selectFrom("wallets").select(["uid", "points", "version"]).orderBy("uid").execute();
  const entries = await db.kysely
    .selectFrom("ledger_entries")
    .select(["uid", "kind", "amount", "idempotency_key", "balance_after"])
    .orderBy("idempotency_key")
    .execute();
  const events = await db.kysely
    .selectFrom("webhook_events")
    .select(["event_id", "status", "failure_reason", "attempts"])
    .orderBy("event_id")
    .execute();
  return { wallets, entries, events };
}

async function scannedSoFar(db: Db): Promise<{ id: string; scanned: number; status: string } | undefined> {
  return db.kysely.selectFrom("data_migrations").select(["id", "scanned", "status"]).executeTakeFirst();
}

function reckon(args: string[], url: string) {
  return spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: url, BACKFILL_BATCH_SIZE: "20", LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

for (const engine of ENGINES) {
  describe(`backfill killed halfway and resumed [${engine}]`, () => {
    let straight: TestDatabase;
    let killed: TestDatabase;
    let planned: TestDatabase;
    beforeAll(async () => {
      straight = await createTestDatabase(engine);
      killed = await createTestDatabase(engine);
      planned = await createTestDatabase(engine);
      const rows = receivedOrderRows({ count: EVENTS, product: "p_resume", prefix: `res${engine}` });
      for (const database of [straight, killed, planned]) {
        await catalogue(database.db, "paynow", "p_resume", 10);
        await insertEvents(database.db, rows);
      }
    });
    afterAll(async () => {
      await straight.drop();
      await killed.drop();
      await planned.drop();
    });

    it("ends in exactly the state of an uninterrupted run", async () => {
      const config = loadConfig({ DATABASE_URL: straight.url, BACKFILL_BATCH_SIZE: "20" });
      const started = await startBackfill(backfillDeps(straight.db, config, () => new Date()), {
        type: "webhook_replay",
        startDate: DAY,
        endDate: DAY,
        dryRun: false,
        maxEvents: 1_000_000,
        planHash: null,
      });
      if (started.outcome !== "started") throw new Error(started.outcome);
      expect(await started.done).toMatchObject({ status: "completed", scanned: EVENTS });

      const child = reckon(["backfill", "replay", "--from", DAY, "--to", DAY], killed.url);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
      const deadline = Date.now() + 60_000;
      let progress = await scannedSoFar(killed.db);
      while ((progress?.scanned ?? 0) < 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        progress = await scannedSoFar(killed.db);
      }
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const interrupted = await scannedSoFar(killed.db);
      expect(interrupted?.status).toBe("running");
      expect(interrupted!.scanned).toBeGreaterThanOrEqual(200);
      expect(interrupted!.scanned).toBeLessThan(EVENTS);

      const resume = reckon(["backfill", "resume", interrupted!.id], killed.url);
      let stdout = "";
      resume.stdout.on("data", (chunk) => (stdout += chunk));
      const code = await new Promise<number | null>((resolve) => resume.on("exit", (exitCode) => resolve(exitCode)));
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ id: interrupted!.id, status: "completed", scanned: EVENTS, processed: EVENTS });

      expect(await outcome(killed.db)).toEqual(await outcome(straight.db));
      expect(await invariantViolations(killed.db)).toEqual([]);
    }, CLI_TEST_TIMEOUT_MS);

    it("a dry run killed mid-plan does not block the next dry run, which ends with the whole plan", async () => {
      const child = reckon(["backfill", "replay", "--from", DAY, "--to", DAY, "--dry-run"], planned.url);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
      const deadline = Date.now() + 60_000;
      let progress = await scannedSoFar(planned.db);
      while (progress?.status !== "running" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        progress = await scannedSoFar(planned.db);
      }
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const killedDry = await scannedSoFar(planned.db);
      expect(killedDry?.status).toBe("running");

      const again = reckon(["backfill", "replay", "--from", DAY, "--to", DAY, "--dry-run"], planned.url);
      let stdout = "";
      again.stdout.on("data", (chunk) => (stdout += chunk));
      const code = await new Promise<number | null>((resolve) => again.on("exit", (exitCode) => resolve(exitCode)));
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ dryRun: true, status: "completed", scanned: EVENTS, plannedEntries: EVENTS });
      const abandoned = await planned.db.kysely.selectFrom("data_migrations").select(["status", "failure_reason"]).where("id", "=", killedDry!.id).executeTakeFirstOrThrow();
      expect(abandoned).toEqual({ status: "failed", failure_reason: "abandoned" });
    }, CLI_TEST_TIMEOUT_MS);
  });
}

import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { insertEvents, receivedOrderRows } from "../../test/support/storedOrders.js";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue } from "../../test/support/webhookFixtures.js";
import type { Db } from "../storage/openDatabase.js";
import { backfillDeps } from "./backfillDeps.js";
import { startBackfill } from "./startBackfill.js";
import { reckonArgs } from "../../test/support/reckonCommand.js";

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

type Progress = { id: string; scanned: number; status: string } | undefined;

async function scannedSoFar(db: Db): Promise<Progress> {
  return db.kysely.selectFrom("data_migrations").select(["id", "scanned", "status"]).executeTakeFirst();
}

function reckon(args: string[], url: string) {
  return spawn(process.execPath, reckonArgs(args), {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: url, BACKFILL_BATCH_SIZE: "20", LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Kills a just-started CLI run with SIGKILL once `reached` holds for the run's progress in `db`
 * (polled every `pollMs`, at most 60 s), and checks it died of that signal.
 */
async function killOnce(child: ReturnType<typeof reckon>, db: Db, reached: (progress: Progress) => boolean, pollMs: number): Promise<void> {
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 60_000;
  while (!reached(await scannedSoFar(db)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, pollMs));
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
}

/** Waits for a just-started CLI run to exit: its exit code and what it printed. */
async function finished(child: ReturnType<typeof reckon>): Promise<{ code: number | null; stdout: string }> {
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
  return { code, stdout };
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

      await killOnce(reckon(["backfill", "replay", "--from", DAY, "--to", DAY], killed.url), killed.db, (progress) => (progress?.scanned ?? 0) >= 200, 5);
      const interrupted = await scannedSoFar(killed.db);
      expect(interrupted?.status).toBe("running");
      expect(interrupted!.scanned).toBeGreaterThanOrEqual(200);
      expect(interrupted!.scanned).toBeLessThan(EVENTS);

      const { code, stdout } = await finished(reckon(["backfill", "resume", interrupted!.id], killed.url));
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ id: interrupted!.id, status: "completed", scanned: EVENTS, processed: EVENTS });

      expect(await outcome(killed.db)).toEqual(await outcome(straight.db));
      expect(await invariantViolations(killed.db)).toEqual([]);
    }, CLI_TEST_TIMEOUT_MS);

    it("a dry run killed mid-plan does not block the next dry run, which ends with the whole plan", async () => {
      await killOnce(reckon(["backfill", "replay", "--from", DAY, "--to", DAY, "--dry-run"], planned.url), planned.db, (progress) => progress?.status === "running", 2);
      const killedDry = await scannedSoFar(planned.db);
      expect(killedDry?.status).toBe("running");

      const { code, stdout } = await finished(reckon(["backfill", "replay", "--from", DAY, "--to", DAY, "--dry-run"], planned.url));
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ dryRun: true, status: "completed", scanned: EVENTS, plannedEntries: EVENTS });
      const abandoned = await planned.db.kysely.selectFrom("data_migrations").select(["status", "failure_reason"]).where("id", "=", killedDry!.id).executeTakeFirstOrThrow();
      expect(abandoned).toEqual({ status: "failed", failure_reason: "abandoned" });
    }, CLI_TEST_TIMEOUT_MS);
  });
}

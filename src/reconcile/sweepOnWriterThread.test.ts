import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, paynowOrder, sendPaynow, webhookHarness, type WebhookHarness } from "../../test/support/webhookFixtures.js";
import type { RangeWalked } from "../storage/SeparateWriter.js";
import { deliveryWriterFor } from "../webhooks/deliveryWriterFor.js";
import { WebhookWriterThread } from "../webhooks/WebhookWriterThread.js";
import { claimChunk } from "./claimChunk.js";
import { openRun } from "./openRun.js";
import { runReconciliation } from "./runReconciliation.js";
import { verifyReports } from "./verifyReports.js";

const PRODUCT = "458255405240287377";
const USERS = 2_600;
const DRIFTED = ["w0000007", "w0001500", "w0002599"];
const T0 = new Date("2026-10-01T02:00:00.000Z");

/** Users `w0000001…` with three entries each, in balance but for `DRIFTED`, written in SQL (the sweep is what is tested). */
async function seed(database: TestDatabase): Promise<void> {
  const sqlite = database.db.sqlite!;
  sqlite.exec(`BEGIN;
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${USERS})
    INSERT INTO wallets (uid, points, version, negative_flagged, created_at, updated_at)
    SELECT printf('w%07d', n), 3 * n + 6, 3, 0, '${T0.toISOString()}', '${T0.toISOString()}' FROM seq;
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${USERS}), ks(k) AS (VALUES (1), (2), (3))
    INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
    SELECT printf('w%07d', n), n + k, 'purchase', printf('s%07d%d', n, k), NULL, 0, 'test', NULL, NULL, '', '${T0.toISOString()}' FROM seq, ks;
    COMMIT;`);
  for (const uid of DRIFTED) await sql`UPDATE wallets SET points = points + 5 WHERE uid = ${uid}`.execute(database.db.kysely);
}

describe.runIf(ENGINES.includes("sqlite"))("the sweep's ok lines on the webhook writer thread [sqlite]", () => {
  let database: TestDatabase;
  let harness: WebhookHarness;
  let thread: WebhookWriterThread;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    await seed(database);
    harness = await webhookHarness(database.db);
    await catalogue(database.db, "paynow", PRODUCT, 7);
    thread = deliveryWriterFor(database.db) as WebhookWriterThread;
  });
  afterAll(async () => {
    await harness.app.close();
    await database.drop();
  });

  it("the thread writes every slice's ok lines while deliveries keep coming, and the report verifies", async () => {
    expect(database.db.separateWriter?.turns).toBe(thread);
    const answers: (RangeWalked | { unavailable: true })[] = [];
    const sweep = vi.spyOn(thread, "sweepRange");
    sweep.mockImplementation(async function (this: WebhookWriterThread, range) {
      const walked = await WebhookWriterThread.prototype.sweepRange.call(this, range);
      answers.push(walked);
      return walked;
    });
    try {
      const deliveries = Array.from({ length: 40 }, (_, index) =>
        sendPaynow(harness, paynowOrder({ orderId: flakeId(), uid: `w${String(1 + index * 61).padStart(7, "0")}`, lines: [{ productId: PRODUCT, quantity: 1 }] })),
      );
      const outcome = await runReconciliation(database.db, { date: "2026-10-01", policy: "adjust_ledger", chunkUsers: 1_000, mode: "start", now: () => T0 });
      for (const response of await Promise.all(deliveries)) expect(response.statusCode).toBe(200);
      expect(outcome.outcome).toBe("completed");
      if (outcome.outcome !== "completed") return;
      expect(outcome.run.usersChecked).toBe(USERS);
      expect(outcome.run.violations).toBe(DRIFTED.length);
      // Slices of 1,000 in chunks of 1,000 and the last of 600: every slice went to the thread, and it wrote all of them.
      const walked = answers.map((answer) => ("kept" in answer && answer.kept ? answer : null));
      expect(walked.map((answer) => answer?.complete)).toEqual([true, true, true]);
      expect(walked.reduce((sum, answer) => sum + answer!.usersChecked, 0)).toBe(USERS);
      expect(walked.reduce((sum, answer) => sum + answer!.hashes.length, 0)).toBe(USERS - DRIFTED.length);
      expect(walked.flatMap((answer) => answer!.drifted)).toEqual(DRIFTED);
      const verified = await verifyReports(database.db.kysely, { date: "2026-10-01" });
      expect(verified.problems).toEqual([]);
      expect(verified.linesChecked).toBe(USERS);
      expect(await invariantViolations(database.db)).toEqual([]);
    } finally {
      sweep.mockRestore();
    }
  });

  it("walks nothing for a chunk that is no longer the caller's, and the holder's walk answers the lines it wrote, in order", async () => {
    const opened = await openRun(database.db, { date: "2026-10-03", policy: "adjust_ledger", chunkUsers: 1_000, mode: "start", now: T0 });
    if (opened.outcome !== "opened") throw new Error(`run not opened: ${opened.outcome}`);
    const chunk = await claimChunk(database.db, opened.runId, "holder-a", T0);
    await sql`UPDATE wallets SET points = points + 1 WHERE uid = 'w0000004'`.execute(database.db.kysely);
    // Slices of three over ten users: the walk crosses four slices inside the thread.
    const range = { runId: opened.runId, chunkNo: chunk!.chunk_no, date: "2026-10-03", after: chunk!.uid_after, last: "w0000010", sliceUsers: 3 };
    expect(await thread.sweepRange({ ...range, holder: "holder-b" })).toEqual({ kept: false });
    const stored = () => database.db.kysely.selectFrom("reconciliation_user_reports").select(["uid", "line_hash"]).where("run_id", "=", opened.runId).orderBy("uid").execute();
    expect(await stored()).toEqual([]);
    const walked = await thread.sweepRange({ ...range, holder: "holder-a" });
    expect(walked).toMatchObject({ kept: true, usersChecked: 10, drifted: ["w0000004"], driftedAfter: [3], complete: true });
    expect("hashes" in walked && walked.hashes).toEqual((await stored()).map((line) => line.line_hash));
  });
});

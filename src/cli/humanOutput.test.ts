import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setProduct } from "../catalogue/setProduct.js";
import { setFlag } from "../flags/setFlag.js";
import { readReport } from "../reconcile/readReports.js";
import { withTransaction } from "../storage/withTransaction.js";
import { editWallet } from "../../test/support/editWallet.js";
import { postPurchase } from "../../test/support/postPurchase.js";
import { runReckon } from "../../test/support/runReckon.js";
import { insertEvents, receivedOrderRow, receivedOrderRows } from "../../test/support/storedOrders.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { NOW, paynowOrder } from "../../test/support/webhookFixtures.js";

const DATE = "2026-01-02";
/** Five users with a purchase each; two wallets then edited behind the ledger's back. */
const USERS = ["hu_a", "hu_b", "hu_c", "hu_d", "hu_e"];
const EDITS: Record<string, number> = { hu_b: 7, hu_d: -4 };
const BOUGHT = 100;

/** Every line of a command's stderr is a JSON log line; the progress ones, in order. */
function progressLines(stderr: string): { label: string; done: number; total: number }[] {
  const lines = stderr.split("\n").filter((line) => line !== "");
  const parsed = lines.map((line) => JSON.parse(line) as { progress?: { label: string; done: number; total: number } });
  return parsed.flatMap((line) => (line.progress ? [line.progress] : []));
}

/** The table row of `first` in a human summary, split into its cells. */
function row(stdout: string, first: string): string[] {
  const line = stdout.split("\n").find((candidate) => candidate.trim().split(/\s{2,}/)[0] === first);
  expect(line, `a row for ${first} in:\n${stdout}`).toBeDefined();
  return line!.trim().split(/\s{2,}/);
}

for (const engine of ENGINES) {
  describe(`commands that speak to people [${engine}]`, () => {
    let database: TestDatabase;
    const reckon = (args: string[], env: Record<string, string> = {}) =>
      runReckon(args, { ENVIRONMENT: "test", DATABASE_URL: database.url, LOG_LEVEL: "info", ...env });
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      for (const uid of USERS) await postPurchase(database.db, uid, BOUGHT, NOW);
      for (const [uid, by] of Object.entries(EDITS)) await editWallet(database.db, uid, by);
    });
    afterAll(() => database.drop());

    it("reconcile names the drifted users and what it healed; its progress is JSON log lines on stderr only", async () => {
      const result = await reckon(["reconcile", "--date", DATE, "--human"]);
      expect(result.code).toBe(0);
      const drift = Object.values(EDITS).reduce((sum, by) => sum + Math.abs(by), 0);
      expect(result.stdout).toContain(`checked ${USERS.length} users; 2 wallets drifted.`);
      expect(result.stdout).toContain(`healed 2, refused 0; ${drift} points of drift in total`);
      for (const [uid, by] of Object.entries(EDITS)) {
        expect(row(result.stdout, uid)).toEqual([uid, String(BOUGHT + by), String(BOUGHT), String(by), "adjusted", "-"]);
      }
      expect(result.stdout).toContain(`reckon reconcile revert --date ${DATE}`);
      expect(progressLines(result.stderr).at(-1)).toMatchObject({ label: "reconcile", done: USERS.length, total: USERS.length });
      expect(result.stdout).not.toMatch(/"progress"|of 5 users/);
    }, 60_000);

    it("without --human and off a terminal, reports show prints the stored run as JSON, as before", async () => {
      const result = await reckon(["reports", "show", "--date", DATE]);
      expect(result.code).toBe(0);
      // The stored run, with what provider sync found that day beside it (none here).
      expect(JSON.parse(result.stdout)).toEqual({ ...(await readReport(database.db.kysely, DATE)), providerFindings: [] });
    }, 60_000);

    it("reports list is a table of each date's run from the database", async () => {
      const run = (await readReport(database.db.kysely, DATE))!;
      const result = await reckon(["reports", "list", "--from", "2026-01-01", "--to", "2026-01-03", "--human"]);
      expect(result.stdout).toContain("1 run from 2026-01-01 to 2026-01-03; 1 day with drift.");
      expect(row(result.stdout, DATE)).toEqual([DATE, String(run.runId), "completed", "5", "2", "0", String(run.adjustmentAbsTotal), String(run.chainPosition)]);
    }, 60_000);

    it("reconcile revert says how many heals it reversed, and the ledger holds the reversing entries", async () => {
      const result = await reckon(["reconcile", "revert", "--date", DATE, "--human"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Reverted run \d+ for 2026-01-02: 2 heals reversed with new entries, 0 already reversed before, 0 refused\./);
      const adjustments = await database.db.kysely.selectFrom("ledger_entries").select(["uid", "amount"]).where("kind", "=", "reconcile_adjustment").execute();
      const net = new Map<string, number>();
      for (const entry of adjustments) net.set(entry.uid, (net.get(entry.uid) ?? 0) + Number(entry.amount));
      expect([adjustments.length, [...net.values()]]).toEqual([4, [0, 0]]);
    }, 60_000);

    it("flags list is a table of every flag with who set it", async () => {
      await withTransaction(database.db, (trx) => setFlag(trx, { name: "adjustments_frozen", value: true, actor: "cli:ops", now: NOW }));
      const result = await reckon(["admin", "flags", "list", "--human"]);
      expect(row(result.stdout, "adjustments_frozen")).toEqual(["adjustments_frozen", "true", "cli:ops", NOW.toISOString()]);
    }, 60_000);

    it("backfill replay names its errors and the next step; its progress counts the events of the range", async () => {
      await withTransaction(database.db, (trx) => setProduct(trx, { provider: "paynow", productId: "p_human", pointsPerUnit: 10, actor: "test", now: NOW }));
      const good = receivedOrderRows({ count: 5, product: "p_human", prefix: "hq" });
      const unknown = receivedOrderRow(paynowOrder({ orderId: "hq_unknown", uid: "hq_u9", lines: [{ productId: "p_nobody_sells", quantity: 1 }] }));
      const outside = receivedOrderRow(paynowOrder({ orderId: "hq_later", uid: "hq_u8", lines: [{ productId: "p_human", quantity: 1 }] }), new Date("2026-01-05T00:00:00Z"));
      await insertEvents(database.db, [...good, unknown, outside]);
      const result = await reckon(["backfill", "replay", "--from", "2026-01-01", "--to", "2026-01-01", "--human"], { BACKFILL_BATCH_SIZE: "2" });
      expect(result.stdout).toMatch(/\): partial\.\n {2}scanned 6 events: 5 applied, 0 skipped, 1 error;/);
      expect(row(result.stdout, unknown.event_id)[0]).toBe(unknown.event_id);
      expect(result.stdout).toContain("reckon products set");
      expect(progressLines(result.stderr).at(-1)).toMatchObject({ label: "backfill webhook_replay", done: 6, total: 6 });

      const listed = await reckon(["backfill", "list", "--human"]);
      const id = /Backfill (bf_\w+)/.exec(result.stdout)![1]!;
      expect(row(listed.stdout, id)).toEqual([id, "webhook_replay", "2026-01-01..2026-01-01", "partial", "6", "5", "1", expect.any(String)]);
    }, 90_000);
  });
}

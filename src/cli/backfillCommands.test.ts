import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runReckon } from "../../test/support/runReckon.js";
import { openDatabase } from "../storage/openDatabase.js";
import { tableCounts } from "../../test/support/testDatabase.js";
import { flakeId, paynowOrder } from "../../test/support/webhookFixtures.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-backfill-cli-"));
const url = `file:${join(dir, "cli.db")}`;

const reckon = (args: string[], env: Record<string, string> = {}) => runReckon(args, { DATABASE_URL: url, ...env });

describe("reckon backfill CLI", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("imports a file, naming each malformed line and importing nothing until all are good", async () => {
    const good = JSON.stringify(paynowOrder({ orderId: flakeId(), uid: "cli_user", lines: [{ productId: "p_cli", quantity: 2 }] }));
    const file = join(dir, "events.jsonl");
    writeFileSync(file, `${good}\n{"event_type":\n`);
    const refused = await reckon(["backfill", "import", "--provider", "paynow", "--file", file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file}:2: not valid JSON`);
    const db = openDatabase(url);
    try {
      expect((await tableCounts(db)).webhook_events).toBe(0);
    } finally {
      await db.close();
    }

    writeFileSync(file, `${good}\n`);
    const imported = await reckon(["backfill", "import", "--provider", "paynow", "--file", file]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ outcome: "imported", lines: 1, stored: 1, duplicates: 0 });

    await reckon(["products", "set", "paynow", "p_cli", "40"]);
    const dry = await reckon(["backfill", "replay", "--from", "2026-01-01", "--to", "2026-01-01", "--dry-run"]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ dryRun: true, plannedEntries: 1, planSample: [{ uid: "cli_user", amount: 80 }] });
    const applied = await reckon(["backfill", "replay", "--from", "2026-01-01", "--to", "2026-01-01", "--plan", plan.planHash]);
    expect(JSON.parse(applied.stdout)).toMatchObject({ status: "completed", processed: 1 });
  });

  it("refuses a reversed range and an unknown option with a clear message", async () => {
    const reversed = await reckon(["backfill", "reversals", "--from", "2026-01-05", "--to", "2026-01-01"]);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/endDate is before startDate/);
    const bad = await reckon(["backfill", "replay", "--from", "2026-01-01", "--to", "2026-01-01", "--max-events", "-3"]);
    expect(bad.code).not.toBe(0);
  });
});

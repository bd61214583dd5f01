import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { verifyTampered as verifyTamperedWith } from "../../test/support/verifyTampered.js";
import { postEntry } from "../ledger/postEntry.js";
import { scrapeMetrics } from "../ops/scrapeMetrics.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import type { ReportSettings } from "./publishChainHead.js";
import { lineHash, runChecksum } from "./reportHashes.js";
import { NO_REPORT_KEYS } from "./reportSigning.js";
import { runReconciliation } from "./runReconciliation.js";
import { summarizeLines, toLine } from "./summarizeLines.js";
import { verifyReports, type VerifyResult } from "./verifyReports.js";

const NOW = new Date("2026-11-05T03:00:00.000Z");
const now = () => NOW;
const DATES = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];

/** Keys and anchor made for this test run; nothing secret lives in the repository. */
const dir = mkdtempSync(join(tmpdir(), "reckon-anchor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { privateKey, publicKey } = generateKeyPairSync("ed25519");

function settingsFor(engine: string): ReportSettings {
  return { keys: { signingKey: privateKey, verifyKey: publicKey }, anchorFile: join(dir, `anchor-${engine}.jsonl`) };
}

/** Tampers, verifies with the keys and anchor of `settings`, then rolls the tampering back. */
const verifyTampered = (db: Db, settings: ReportSettings, tamper: (trx: Trx) => Promise<void>): Promise<VerifyResult> =>
  verifyTamperedWith(db, { verifyKey: settings.keys.verifyKey, anchorFile: settings.anchorFile }, tamper);

async function runsByPosition(db: Trx | Db["kysely"]) {
  return db.selectFrom("reconciliation_runs").selectAll().where("chain_position", "is not", null).orderBy("chain_position").execute();
}

async function deleteRun(trx: Trx, runId: number): Promise<void> {
  await trx.deleteFrom("reconciliation_user_reports").where("run_id", "=", runId).execute();
  await trx.deleteFrom("reconciliation_chunks").where("run_id", "=", runId).execute();
  await trx.deleteFrom("reconciliation_heals").where("run_id", "=", runId).execute();
  await trx.deleteFrom("reconciliation_runs").where("id", "=", runId).execute();
}

describeEachEngine("reports verify checks the chain against its signatures and its anchor", (db, engine) => {
  const settings = settingsFor(engine);
  const logged: { fields: object; message: string }[] = [];
  const logger = { info: (fields: object, message: string) => logged.push({ fields, message }), error: () => undefined };

  it("a signed chain verifies against the anchor, which holds one signed line per run; the head is logged and published", async () => {
    for (const uid of ["a1", "a2", "a3"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 40, idempotencyKey: `anchor-${uid}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points + 2 WHERE uid = 'a2'`.execute(db().kysely);
    for (const date of DATES) {
      const result = await runReconciliation(db(), { date, policy: "adjust_ledger", chunkUsers: 2, mode: "start", now, reports: settings, logger });
      expect(result).toMatchObject({ outcome: "completed", head: { date, signed: true, anchor: "anchored" } });
    }

    const verified = await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: settings.anchorFile });

    expect(verified).toMatchObject({ verdict: "verified", ok: true, problems: [], runsChecked: 4, head: { position: 4, date: "2026-11-04" } });
    const anchored = readFileSync(settings.anchorFile!, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { position: number; date: string });
    expect(anchored.map((line) => [line.position, line.date])).toEqual(DATES.map((date, index) => [index + 1, date]));
    // One head line per run (heals are logged through the same logger too).
    const heads = logged.filter((entry) => entry.message.startsWith("report chain head"));
    expect(heads).toHaveLength(4);
    expect(heads.at(-1)!.message).toContain("position 4, 2026-11-04");
    const text = (await scrapeMetrics(db())).text;
    expect(text).toMatch(/^reckon_report_chain_head_position 4$/m);
  });

  it("deleting the newest run with its chunks and lines is named truncated", async () => {
    const [, , , newest] = await runsByPosition(db().kysely);
    const result = await verifyTampered(db(), settings, (trx) => deleteRun(trx, newest!.id));
    expect(result.verdict).toBe("failed");
    expect(result.problems).toEqual([{ problem: "truncated", anchoredPosition: 4, anchoredDate: "2026-11-04", databasePosition: 3 }]);
  });

  it("deleting the newest run and taking the next-newest out of the chain is named truncated and unchained", async () => {
    const [, , third, fourth] = await runsByPosition(db().kysely);
    const result = await verifyTampered(db(), settings, async (trx) => {
      await deleteRun(trx, fourth!.id);
      await trx.updateTable("reconciliation_runs").set({ chain_position: null }).where("id", "=", third!.id).execute();
    });
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { problem: "unchained_run", date: "2026-11-03", runId: third!.id },
        { problem: "truncated", anchoredPosition: 4, anchoredDate: "2026-11-04", databasePosition: 2 },
      ]),
    );
  });

  it("editing a run's status or finish time breaks its checksum", async () => {
    const [, second] = await runsByPosition(db().kysely);
    const status = await verifyTampered(db(), settings, async (trx) => {
      await trx.updateTable("reconciliation_runs").set({ status: "failed" }).where("id", "=", second!.id).execute();
    });
    expect(status.problems).toContainEqual({ problem: "checksum_mismatch", date: "2026-11-02", runId: second!.id });
    const finished = await verifyTampered(db(), settings, async (trx) => {
      await trx.updateTable("reconciliation_runs").set({ finished_at: "2026-11-02T05:00:00.000Z" }).where("id", "=", second!.id).execute();
    });
    expect(finished.problems).toEqual([{ problem: "checksum_mismatch", date: "2026-11-02", runId: second!.id }]);
  });

  it("a line rewritten with every hash and checksum recomputed, by someone without the key, fails its signatures", async () => {
    const runs = await runsByPosition(db().kysely);
    const result = await verifyTampered(db(), settings, async (trx) => {
      // The tamperer knows every formula: lines, digests and checksums all agree afterwards.
      const target = runs[1]!;
      const row = await trx.selectFrom("reconciliation_user_reports").selectAll().where("run_id", "=", target.id).where("uid", "=", "a1").executeTakeFirstOrThrow();
      const forged = { ...toLine(row), walletPoints: 1_000, ledgerSum: 1_000 };
      await trx.updateTable("reconciliation_user_reports").set({ wallet_points: 1_000, ledger_sum: 1_000, line_hash: lineHash(target.run_date, forged) }).where("run_id", "=", target.id).where("uid", "=", "a1").execute();
      let previous = runs[0]!.checksum;
      for (const run of runs.slice(1)) {
        const digest = (await summarizeLines(trx, run.id, run.run_date)).digest;
        const figures = {
          runDate: run.run_date, healPolicy: run.heal_policy, usersChecked: run.users_checked, violations: run.violations, refused: run.refused,
          adjustmentAbsTotal: run.adjustment_abs_total, chainPosition: Number(run.chain_position), status: run.status, startedAt: run.started_at, finishedAt: run.finished_at,
          findings: { count: Number(run.findings_count), digest: run.findings_digest },
        };
        const checksum = runChecksum(Number(run.checksum_version), previous, figures, digest);
        await trx.updateTable("reconciliation_runs").set({ previous_checksum: previous, checksum }).where("id", "=", run.id).execute();
        previous = checksum;
      }
    });
    const kinds = result.problems.map((problem) => problem.problem);
    expect(kinds).not.toContain("line_altered");
    expect(kinds).not.toContain("checksum_mismatch");
    expect(result.problems).toEqual(
      expect.arrayContaining([2, 3, 4].map((position) => ({ problem: "signature_mismatch", date: DATES[position - 1], runId: runs[position - 1]!.id, chainPosition: position }))),
    );
    expect(result.problems).toContainEqual({ problem: "anchor_mismatch", chainPosition: 2, anchoredDate: "2026-11-02" });
  });

  it("swapping two runs' places in the chain is named reordered", async () => {
    const [, second, third] = await runsByPosition(db().kysely);
    const result = await verifyTampered(db(), settings, async (trx) => {
      await trx.updateTable("reconciliation_runs").set({ chain_position: 100 }).where("id", "=", second!.id).execute();
      await trx.updateTable("reconciliation_runs").set({ chain_position: 2 }).where("id", "=", third!.id).execute();
      await trx.updateTable("reconciliation_runs").set({ chain_position: 3 }).where("id", "=", second!.id).execute();
    });
    const reordered = [
      { problem: "reordered", date: "2026-11-03", runId: third!.id, chainPosition: 2, expectedPosition: 3 },
      { problem: "reordered", date: "2026-11-02", runId: second!.id, chainPosition: 3, expectedPosition: 2 },
    ];
    expect(result.problems).toEqual(expect.arrayContaining(reordered));
    // Without key or anchor the links alone name the two runs that moved, and only them.
    const unkeyed = await verifyTampered(db(), { keys: NO_REPORT_KEYS, anchorFile: null }, async (trx) => {
      await trx.updateTable("reconciliation_runs").set({ chain_position: 100 }).where("id", "=", second!.id).execute();
      await trx.updateTable("reconciliation_runs").set({ chain_position: 2 }).where("id", "=", third!.id).execute();
      await trx.updateTable("reconciliation_runs").set({ chain_position: 3 }).where("id", "=", second!.id).execute();
    });
    expect(unkeyed.problems.filter((problem) => problem.problem !== "checksum_mismatch")).toEqual(reordered);
  });

  it("an anchor line forged without the key is named anchor_invalid", async () => {
    const forgedAnchor = join(dir, `forged-${engine}.jsonl`);
    const lines = readFileSync(settings.anchorFile!, "utf8");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(forgedAnchor, `${lines}${JSON.stringify({ position: 5, date: "2026-11-05", checksum: "f".repeat(64), signature: "AAAA" })}\n`);
    const result = await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: forgedAnchor });
    expect(result.problems).toEqual([{ problem: "anchor_invalid", line: 5, why: "bad_signature" }]);
  });

  it("without a key verify says unsigned, and with a key but no anchor unanchored; neither is ok", async () => {
    expect(await verifyReports(db().kysely)).toMatchObject({ verdict: "unsigned", ok: false, problems: [] });
    expect(await verifyReports(db().kysely, { verifyKey: publicKey })).toMatchObject({ verdict: "unanchored", ok: false, problems: [] });
  });

  it("with a key, a run chained without one is named signature_missing", async () => {
    const result = await runReconciliation(db(), { date: "2026-11-05", policy: "adjust_ledger", chunkUsers: 2, mode: "start", now });
    expect(result).toMatchObject({ outcome: "completed", head: { position: 5, signed: false, anchor: "no_anchor_file" } });
    const verified = await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: settings.anchorFile });
    expect(verified.problems).toEqual([{ problem: "signature_missing", date: "2026-11-05", runId: result.outcome === "completed" ? result.run.runId : -1, chainPosition: 5 }]);
  });
});

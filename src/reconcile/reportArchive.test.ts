import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { rewriteAsVersion2 } from "../../test/support/oldFormatRun.js";
import { describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { loadConfig } from "../config.js";
import { postEntry } from "../ledger/postEntry.js";
import type { FindingDraft } from "../providerSync/FindingDraft.js";
import { storeFindings } from "../providerSync/storeFindings.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { archiveReports } from "./archiveReports.js";
import { pruneReports } from "./pruneReports.js";
import type { ReportSettings } from "./publishChainHead.js";
import { runReconciliation } from "./runReconciliation.js";
import { scheduleReconciliation } from "./scheduleReconciliation.js";
import { verifyArchive } from "./verifyArchive.js";
import { verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-11-08T03:00:00.000Z");
const now = () => NOW;
const DATES = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"];
const USERS = 7;

/** Keys, anchor and archives made for this test run; nothing secret lives in the repository. */
const dir = mkdtempSync(join(tmpdir(), "reckon-archive-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { privateKey, publicKey } = generateKeyPairSync("ed25519");

function settingsFor(engine: string): ReportSettings {
  return { keys: { signingKey: privateKey, verifyKey: publicKey }, anchorFile: join(dir, `anchor-${engine}.jsonl`) };
}

async function reconcile(db: Db, date: string, reports: ReportSettings): Promise<void> {
  const result = await runReconciliation(db, { date, policy: "adjust_ledger", chunkUsers: 3, mode: "start", now, reports });
  expect(result.outcome).toBe("completed");
}

/** An archive's JSON lines, decompressed. */
function records(file: string): string[] {
  return gunzipSync(readFileSync(file)).toString("utf8").trimEnd().split("\n");
}

function rewrite(file: string, lines: string[]): string {
  const copy = join(dir, `tampered-${Math.random().toString(36).slice(2)}.jsonl.gz`);
  writeFileSync(copy, gzipSync(`${lines.join("\n")}\n`));
  return copy;
}

/** Edits an archive's lines and gives it the trailer SHA-256 its new bytes have, as a careful forger would. */
function withTrailerRecomputed(lines: string[], edit: (copy: string[]) => void): string[] {
  const copy = [...lines];
  edit(copy);
  const trailer = JSON.parse(copy.at(-1)!) as { trailer: { sha256: string } };
  trailer.trailer.sha256 = createHash("sha256").update(copy.slice(0, -1).map((text) => `${text}\n`).join("")).digest("hex");
  copy[copy.length - 1] = JSON.stringify(trailer);
  return copy;
}

describeEachEngine("report archive, prune and verify", (db, engine) => {
  const settings = settingsFor(engine);
  const keys = { verifyKey: publicKey, anchorFile: settings.anchorFile };
  const file = join(dir, `reports-${engine}.jsonl.gz`);

  it("prune without an archive is refused and deletes nothing", async () => {
    for (let index = 0; index < USERS; index++) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid: `ar${index}`, kind: "purchase", amount: 10 + index, idempotencyKey: `ar-${index}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points + 3 WHERE uid = 'ar2'`.execute(db().kysely);
    for (const date of DATES.slice(0, 4)) await reconcile(db(), date, settings);
    const before = await tableCounts(db());

    expect(await pruneReports(db(), { before: "2026-11-03", now: NOW, partial: false })).toEqual({ outcome: "not_archived", position: 1, date: "2026-11-01" });
    expect(await tableCounts(db())).toEqual(before);
  });

  it("archive writes the runs before the date with every line to a file that verifies on its own", async () => {
    const archived = await archiveReports(db().kysely, { before: "2026-11-03", file, now: NOW, reports: settings });
    expect(archived).toMatchObject({ outcome: "archived", archive: { firstPosition: 1, lastPosition: 2, lastDate: "2026-11-02", runs: 2, lines: 2 * USERS, file } });
    const check = await verifyArchive(file, keys);
    expect(check).toMatchObject({ verdict: "verified", ok: true, problems: [], lines: 2 * USERS, trailer: { firstPosition: 1, lastPosition: 2 } });
    expect(check.runs.map((run) => run.runDate)).toEqual(["2026-11-01", "2026-11-02"]);
    // Archiving alone deletes nothing, and never overwrites a file.
    expect(await db().kysely.selectFrom("reconciliation_runs").select("id").execute()).toHaveLength(4);
    expect(await archiveReports(db().kysely, { before: "2026-11-03", file, now: NOW, reports: settings })).toEqual({ outcome: "file_exists", file });
  });

  it("an archive with any line's figure changed is refused: the line is named and its bytes differ from the trailer", () => {
    const lines = records(file);
    const lineIndexes = lines.flatMap((text, index) => (text.startsWith('{"line"') ? [index] : []));
    return fc.assert(
      fc.asyncProperty(fc.constantFrom(...lineIndexes), fc.constantFrom("walletPoints", "ledgerSum", "delta"), fc.integer({ min: 1, max: 1000 }), async (index, field, by) => {
        const tampered = [...lines];
        const record = JSON.parse(tampered[index]!) as { line: Record<string, number> };
        record.line[field] = record.line[field]! + by;
        tampered[index] = JSON.stringify(record);
        const result = await verifyArchive(rewrite(file, tampered), keys);
        expect(result.verdict).toBe("failed");
        expect(result.problems).toEqual(expect.arrayContaining([{ problem: "line_altered", date: expect.any(String), runId: expect.any(Number), uid: record.line.uid }]));
        expect(result.problems.some((problem) => problem.problem === "archive_corrupt")).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it("an archive cut short, a run's figure changed or signatures swapped (trailer recomputed) is refused", async () => {
    const lines = records(file);
    const cut = await verifyArchive(rewrite(file, lines.slice(0, -3)), keys);
    expect(cut.problems).toEqual(expect.arrayContaining([{ problem: "archive_corrupt", why: "it has no trailer: the file was cut short" }]));

    const runIndexes = lines.flatMap((text, index) => (text.startsWith('{"run"') ? [index] : []));
    const runs = runIndexes.map((index) => JSON.parse(lines[index]!) as { run: { violations: number; id: number; signature: string } });
    const edited = withTrailerRecomputed(lines, (copy) => {
      copy[runIndexes[0]!] = JSON.stringify({ run: { ...runs[0]!.run, violations: runs[0]!.run.violations + 1 } });
    });
    const result = await verifyArchive(rewrite(file, edited), keys);
    expect(result.problems).toEqual([
      expect.objectContaining({ problem: "run_altered", runId: runs[0]!.run.id, field: "violations" }),
      expect.objectContaining({ problem: "checksum_mismatch", runId: runs[0]!.run.id }),
    ]);

    const swapped = withTrailerRecomputed(lines, (copy) => {
      copy[runIndexes[0]!] = JSON.stringify({ run: { ...runs[0]!.run, signature: runs[1]!.run.signature } });
      copy[runIndexes[1]!] = JSON.stringify({ run: { ...runs[1]!.run, signature: runs[0]!.run.signature } });
    });
    const forged = await verifyArchive(rewrite(file, swapped), keys);
    expect(forged.problems.map((problem) => problem.problem)).toEqual(["signature_mismatch", "signature_mismatch"]);
    // Without the key, only the bytes and hashes are checked: the forgery is not seen, and the verdict says so.
    expect(await verifyArchive(rewrite(file, swapped), { verifyKey: null, anchorFile: null })).toMatchObject({ verdict: "unsigned", problems: [] });
  });

  it("prune deletes exactly the archived runs; verify passes over the rest and names the archived range", async () => {
    const linesBefore = await db().kysely.selectFrom("reconciliation_user_reports").select("uid").execute();
    const pruned = await pruneReports(db(), { before: "2026-11-03", now: NOW, partial: false });
    expect(pruned).toMatchObject({ outcome: "pruned", runs: 2, lines: 2 * USERS, throughPosition: 2, throughDate: "2026-11-02", kept: 0 });
    const runs = await db().kysely.selectFrom("reconciliation_runs").select(["run_date", "chain_position"]).orderBy("chain_position").execute();
    expect(runs.map((run) => [run.run_date, Number(run.chain_position)])).toEqual([["2026-11-03", 3], ["2026-11-04", 4]]);
    expect(await db().kysely.selectFrom("reconciliation_user_reports").select("uid").execute()).toHaveLength(linesBefore.length - 2 * USERS);

    await reconcile(db(), DATES[4]!, settings);
    const verified = await verifyReports(db().kysely, keys);
    expect(verified).toMatchObject({ verdict: "verified", problems: [], runsChecked: 3, head: { position: 5 }, archived: { lastPosition: 2, lastDate: "2026-11-02", filePath: file } });
    // The file is still what was recorded, and still verifies.
    expect((await verifyArchive(file, keys)).fileSha256).toBe(verified.archived!.fileSha256);
    expect(await pruneReports(db(), { before: "2026-11-03", now: NOW, partial: false })).toEqual({ outcome: "nothing_to_prune" });
  });

  it("removing the record of the pruned range makes verify name the missing positions", async () => {
    await sql`UPDATE report_archives SET pruned_at = NULL`.execute(db().kysely);
    const result = await verifyReports(db().kysely, keys);
    expect(result.problems).toEqual(expect.arrayContaining([{ problem: "chain_gap", chainPosition: 1 }, { problem: "chain_gap", chainPosition: 2 }]));
    await sql`UPDATE report_archives SET pruned_at = ${NOW.toISOString()}`.execute(db().kysely);
  });

  it("a run changed after it was archived is not pruned", async () => {
    const second = join(dir, `reports-${engine}-2.jsonl.gz`);
    expect(await archiveReports(db().kysely, { before: "2026-11-04", file: second, now: NOW, reports: settings })).toMatchObject({ outcome: "archived", archive: { firstPosition: 3, lastPosition: 3 } });
    expect(await verifyArchive(second, keys)).toMatchObject({ verdict: "verified" });
    await sql`UPDATE reconciliation_runs SET checksum = ${"0".repeat(64)} WHERE chain_position = 3`.execute(db().kysely);
    const counts = await tableCounts(db());
    expect(await pruneReports(db(), { before: "2026-11-04", now: NOW, partial: false })).toMatchObject({ outcome: "archive_mismatch" });
    expect(await tableCounts(db())).toEqual(counts);
    expect(existsSync(second)).toBe(true);
  });
});

describeEachEngine("report retention in the scheduler", (db, engine) => {
  const settings = settingsFor(`${engine}-retention`);

  it("prunes only archived runs older than the retention, and none without an archive", async () => {
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "rt1", kind: "purchase", amount: 5, idempotencyKey: "rt-1", source: "test", now: NOW }));
    for (const date of DATES) await reconcile(db(), date, settings);
    const config = { ...loadConfig({ RECONCILE_REPORT_RETENTION_DAYS: "4" }), reports: settings };
    expect(config.reconciliation.reportRetentionDays).toBe(4);
    const errors: string[] = [];
    const logger = { info: () => undefined, error: (_fields: object, message: string) => errors.push(message) };
    const scheduled = scheduleReconciliation(db(), config, { now, logger });
    try {
      expect(await scheduled.tick()).toMatchObject({ outcome: "completed" });
      expect(errors).toEqual(["report retention: runs dated before 2026-11-04 are in no archive; run reckon reports archive"]);
      expect(await db().kysely.selectFrom("reconciliation_runs").select("id").execute()).toHaveLength(6);

      const file = join(dir, `retention-${engine}.jsonl.gz`);
      expect(await archiveReports(db().kysely, { before: "2026-11-03", file, now: NOW, reports: settings })).toMatchObject({ outcome: "archived" });
      await sql`DELETE FROM job_leases`.execute(db().kysely);
      await scheduled.tick();
      const left = await db().kysely.selectFrom("reconciliation_runs").select("run_date").orderBy("chain_position").execute();
      expect(left.map((run) => run.run_date)).toEqual(["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-08", "2026-11-08"]);
      expect(await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: settings.anchorFile })).toMatchObject({ verdict: "verified" });
    } finally {
      scheduled.stop();
    }
  });
});

describeEachEngine("report archives carry the provider findings their runs committed to", (db, engine) => {
  const unsigned = { verifyKey: null, anchorFile: null };
  const reports: ReportSettings = { keys: { signingKey: null, verifyKey: null }, anchorFile: null };
  const file = join(dir, `findings-${engine}.jsonl.gz`);
  const finding = (subject: string, kind: FindingDraft["kind"], status: FindingDraft["status"]): FindingDraft => ({
    provider: "paynow", kind, subject, status, date: "2026-11-01", uid: null, amountMinor: 700, detail: { providerId: subject },
  });

  it("an archive of old-format and newer runs holds each run's findings, verifies, and prune leaves the findings and a chain that verifies", async () => {
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "af1", kind: "purchase", amount: 9, idempotencyKey: "af-1", source: "test", now: NOW }));
    await reconcile(db(), DATES[0]!, reports);
    const first = await db().kysely.selectFrom("reconciliation_runs").select("id").executeTakeFirstOrThrow();
    await rewriteAsVersion2(db(), first.id);
    await withTransaction(db(), (trx) => storeFindings(trx, "bf_archive", [finding("paynow:order:1", "paid_not_credited", "open"), finding("evt_2", "missing_delivery", "repaired")], NOW));
    for (const date of DATES.slice(1, 4)) await reconcile(db(), date, reports);

    const archived = await archiveReports(db().kysely, { before: DATES[2]!, file, now: NOW, reports });
    expect(archived).toMatchObject({ outcome: "archived", archive: { runs: 2 } });
    const check = await verifyArchive(file, unsigned);
    expect(check).toMatchObject({ verdict: "unsigned", problems: [], findings: 2, header: { version: 2 }, trailer: { findings: 2 } });
    expect(records(file).filter((text) => text.startsWith('{"finding"'))).toHaveLength(2);

    expect(await pruneReports(db(), { before: DATES[2]!, now: NOW, partial: false })).toMatchObject({ outcome: "pruned", runs: 2 });
    expect(await db().kysely.selectFrom("provider_findings").select("id").execute()).toHaveLength(2);
    expect(await verifyReports(db().kysely)).toMatchObject({ verdict: "unsigned", problems: [], runsChecked: 2 });
  });

  it("an archived finding edited (trailer recomputed) is named with its run", async () => {
    const lines = records(file);
    const index = lines.findIndex((text) => text.startsWith('{"finding"'));
    const edited = withTrailerRecomputed(lines, (copy) => {
      const record = JSON.parse(copy[index]!) as { finding: { amountMinor: number; id: string } };
      record.finding.amountMinor += 1;
      copy[index] = JSON.stringify(record);
    });
    const result = await verifyArchive(rewrite(file, edited), unsigned);
    const id = (JSON.parse(lines[index]!) as { finding: { id: string } }).finding.id;
    expect(result.problems).toEqual([
      { problem: "finding_altered", date: DATES[1], runId: expect.any(Number), findingId: id },
      { problem: "findings_altered", date: DATES[1], runId: expect.any(Number) },
    ]);
  });

  it("a version 1 archive, written before findings were archived, still verifies", async () => {
    const lines = records(file);
    // The old-format run alone, as a version 1 file held it: no findings fields anywhere.
    const runIndex = lines.findIndex((text) => text.startsWith('{"run"'));
    const nextRun = lines.findIndex((text, index) => index > runIndex && text.startsWith('{"run"'));
    const header = JSON.parse(lines[0]!) as { header: { version: number } };
    header.header.version = 1;
    const { run } = JSON.parse(lines[runIndex]!) as { run: Record<string, unknown> };
    expect(run.checksumVersion).toBe(2);
    delete run.findingsCount;
    delete run.findingsDigest;
    const trailer = JSON.parse(lines.at(-1)!) as { trailer: Record<string, unknown> };
    const oldLines = lines.slice(runIndex + 1, nextRun);
    const last = run as { chainPosition: number; runDate: string; checksum: string };
    const v1 = withTrailerRecomputed([JSON.stringify(header), JSON.stringify({ run }), ...oldLines, ""], (copy) => {
      const { findings: _findings, ...rest } = trailer.trailer;
      copy[copy.length - 1] = JSON.stringify({ trailer: { ...rest, runs: 1, lines: oldLines.length, lastPosition: last.chainPosition, lastDate: last.runDate, lastChecksum: last.checksum } });
    });
    expect(await verifyArchive(rewrite(file, v1), unsigned)).toMatchObject({ verdict: "unsigned", problems: [], runs: [expect.objectContaining({ checksumVersion: 2, findingsCount: 0, findingsDigest: null })] });
  });
});

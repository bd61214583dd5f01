import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { rewriteAsVersion2 } from "../../test/support/oldFormatRun.js";
import { verifyTampered } from "../../test/support/verifyTampered.js";
import { postEntry } from "../ledger/postEntry.js";
import { closePaidFindings } from "../providerSync/closeStaleFindings.js";
import type { FindingDraft } from "../providerSync/FindingDraft.js";
import { readDayReport } from "../providerSync/readDayReport.js";
import { storeFindings } from "../providerSync/storeFindings.js";
import { withTransaction } from "../storage/withTransaction.js";
import { findingHash, summarizeFindings, type CheckedFinding } from "./reportFindings.js";
import { runReconciliation } from "./runReconciliation.js";
import { describeProblem, verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-12-02T03:00:00.000Z");
const now = () => NOW;
const FOUND_DAY = "2026-11-30";

const draft = (kind: FindingDraft["kind"], subject: string, status: FindingDraft["status"], uid: string | null = null): FindingDraft => ({
  provider: "paynow",
  kind,
  subject,
  status,
  date: FOUND_DAY,
  uid,
  amountMinor: 500,
  detail: { providerId: subject.split(":").at(-1), occurredAt: `${FOUND_DAY}T10:00:00.000Z` },
});

describeEachEngine("provider findings in the report chain", (db) => {
  const runIds: Record<string, number> = {};
  const findingIds: Record<string, string> = {};

  async function reconcile(date: string): Promise<number> {
    const result = await runReconciliation(db(), { date, policy: "adjust_ledger", chunkUsers: 2, mode: "start", now });
    if (result.outcome !== "completed") throw new Error(result.outcome);
    runIds[date] = result.run.runId;
    return result.run.runId;
  }

  async function store(drafts: FindingDraft[]): Promise<void> {
    await withTransaction(db(), (trx) => storeFindings(trx, "bf_test_sync", drafts, NOW));
    for (const row of await db().kysely.selectFrom("provider_findings").select(["id", "subject"]).execute()) findingIds[row.subject] = row.id;
  }

  it("a run chained before findings were committed (checksum version 2) still verifies beside newer runs", async () => {
    for (const uid of ["fa", "fb", "fc"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 40, idempotencyKey: `rf-${uid}`, source: "test", now: NOW }));
    }
    const runId = await reconcile("2026-11-28");
    await rewriteAsVersion2(db(), runId);
    expect(await verifyReports(db().kysely)).toMatchObject({ verdict: "unsigned", runsChecked: 1, problems: [] });
  });

  it("the next run commits to every finding stored before it, and an untouched chain with findings verifies", async () => {
    await store([
      draft("paid_not_credited", "paynow:order:1001", "open"),
      draft("credited_not_paid", "paynow:order:1002", "reported", "fb"),
      draft("missing_delivery", "evt_1003", "repaired"),
    ]);
    const runId = await reconcile(FOUND_DAY);
    const run = await db().kysely.selectFrom("reconciliation_runs").select(["checksum_version", "findings_count"]).where("id", "=", runId).executeTakeFirstOrThrow();
    expect([Number(run.checksum_version), Number(run.findings_count)]).toEqual([3, 3]);
    // Found after that run: the next run commits to it, and each finding is committed once.
    await store([draft("refund_not_reversed", "paynow:refund:1004", "open", "fc")]);
    const nextId = await reconcile("2026-12-01");
    const committed = await db().kysely.selectFrom("provider_findings").select(["subject", "report_run_id"]).orderBy("subject").execute();
    expect(committed.map((row) => [row.subject, Number(row.report_run_id)])).toEqual([
      ["evt_1003", runId],
      ["paynow:order:1001", runId],
      ["paynow:order:1002", runId],
      ["paynow:refund:1004", nextId],
    ]);
    expect(await verifyReports(db().kysely)).toMatchObject({ verdict: "unsigned", runsChecked: 3, findingsChecked: 4, problems: [] });
    const report = await readDayReport(db().kysely, FOUND_DAY);
    expect(report!.providerFindings.map((group) => `${group.kind} ${group.status} ${group.count}`)).toEqual([
      "credited_not_paid reported 1",
      "missing_delivery repaired 1",
      "paid_not_credited open 1",
    ]);
  });

  it("a finding closed after its run is audited; the run still shows and verifies what it committed to", async () => {
    const closed = await withTransaction(db(), (trx) =>
      closePaidFindings(trx, { provider: "paynow", runId: "bf_test_later", now: NOW, paidRefs: new Set(["paynow:order:1002"]) }),
    );
    expect(closed.map((finding) => [finding.subject, finding.status, finding.closeReason])).toEqual([["paynow:order:1002", "resolved", "provider_shows_paid"]]);
    const audit = await db().kysely.selectFrom("audit_log").select(["action", "subject"]).where("subject", "=", findingIds["paynow:order:1002"]!).execute();
    expect(audit).toEqual([{ action: "provider_finding.close", subject: findingIds["paynow:order:1002"] }]);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
    const report = await readDayReport(db().kysely, FOUND_DAY);
    expect(report!.providerFindings).toContainEqual({ provider: "paynow", kind: "credited_not_paid", status: "reported", count: 1 });
  });

  it("an edited finding fails verify, naming its run and the finding", async () => {
    const id = findingIds["paynow:order:1001"]!;
    const result = await verifyTampered(db(), {}, async (trx) => {
      await trx.updateTable("provider_findings").set({ amount_minor: 50_000 }).where("id", "=", id).execute();
    });
    expect(result.verdict).toBe("failed");
    expect(result.problems).toEqual([
      { problem: "finding_altered", date: FOUND_DAY, runId: runIds[FOUND_DAY], findingId: id },
      { problem: "findings_altered", date: FOUND_DAY, runId: runIds[FOUND_DAY] },
    ]);
    expect(result.problems.map(describeProblem)[0]).toBe(`${FOUND_DAY}: provider finding ${id} was altered (run ${runIds[FOUND_DAY]})`);
  });

  it("an edited finding whose hash the editor recomputed still breaks the digest its run's checksum covers", async () => {
    const id = findingIds["paynow:order:1001"]!;
    const result = await verifyTampered(db(), {}, async (trx) => {
      const runId = runIds[FOUND_DAY]!;
      await trx.updateTable("provider_findings").set({ kind: "amount_mismatch" }).where("id", "=", id).execute();
      let edited: CheckedFinding | undefined;
      await summarizeFindings(trx, runId, FOUND_DAY, (finding) => {
        if (finding.id === id) edited = finding;
      });
      await trx.updateTable("provider_findings").set({ report_hash: findingHash(FOUND_DAY, edited!) }).where("id", "=", id).execute();
    });
    expect(result.problems.map((problem) => problem.problem)).toEqual(["findings_altered"]);
  });

  it("a deleted finding fails verify, naming its run; so does one moved to another run", async () => {
    const deleted = await verifyTampered(db(), {}, async (trx) => {
      await trx.deleteFrom("provider_findings").where("id", "=", findingIds["evt_1003"]!).execute();
    });
    expect(deleted.problems).toEqual([
      { problem: "run_altered", date: FOUND_DAY, runId: runIds[FOUND_DAY], field: "findings_count", stored: 3, fromLines: 2 },
      { problem: "findings_altered", date: FOUND_DAY, runId: runIds[FOUND_DAY] },
    ]);
    expect(describeProblem(deleted.problems[0]!)).toBe(`${FOUND_DAY}: run ${runIds[FOUND_DAY]} findings_count is 3 but its findings give 2`);
    const moved = await verifyTampered(db(), {}, async (trx) => {
      await trx.updateTable("provider_findings").set({ report_run_id: runIds["2026-12-01"]! }).where("id", "=", findingIds["evt_1003"]!).execute();
    });
    expect(moved.problems.map((problem) => `${problem.problem} ${"date" in problem ? problem.date : ""}`)).toEqual(
      expect.arrayContaining([`findings_altered ${FOUND_DAY}`, "findings_altered 2026-12-01", "finding_altered 2026-12-01"]),
    );
  });

  it("a status changed without an audited close fails verify, naming the finding", async () => {
    const id = findingIds["paynow:order:1001"]!;
    const result = await verifyTampered(db(), {}, async (trx) => {
      await trx.updateTable("provider_findings").set({ status: "resolved", uid: "fa" }).where("id", "=", id).execute();
    });
    expect(result.problems).toEqual([{ problem: "finding_changed_unaudited", date: FOUND_DAY, runId: runIds[FOUND_DAY], findingId: id }]);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });
});

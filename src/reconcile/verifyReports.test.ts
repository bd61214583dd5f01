import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { runReconciliation } from "./runReconciliation.js";
import { describeProblem, verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-04-02T03:00:00.000Z");
const now = () => NOW;

describeEachEngine("reports verify names any altered line or run", (db) => {
  const runIds: Record<string, number> = {};

  it("a clean chain of runs verifies", async () => {
    for (const uid of ["a", "b", "c", "d", "e"]) {
      await withTransaction(db(), (trx) => postEntry(trx, { uid, kind: "purchase", amount: 20, idempotencyKey: `v-${uid}`, source: "test", now: NOW }));
    }
    await sql`UPDATE wallets SET points = points + 3 WHERE uid = 'c'`.execute(db().kysely);
    for (const date of ["2026-03-30", "2026-03-31", "2026-04-01"]) {
      const result = await runReconciliation(db(), { date, policy: "adjust_ledger", chunkUsers: 2, mode: "start", now });
      if (result.outcome !== "completed") throw new Error(result.outcome);
      runIds[date] = result.run.runId;
    }
    const result = await verifyReports(db().kysely);
    expect(result).toMatchObject({ verdict: "unsigned", runsChecked: 3, linesChecked: 15, problems: [] });
  });

  it("verifies inside a caller's transaction too, every run of the chain", async () => {
    const result = await db().kysely.transaction().execute((trx) => verifyReports(trx));
    expect(result).toMatchObject({ verdict: "unsigned", runsChecked: 3, linesChecked: 15, problems: [] });
  });

  it("an edited user line fails verify, naming its date and user", async () => {
    await sql`UPDATE reconciliation_user_reports SET wallet_points = wallet_points + 1 WHERE run_id = ${runIds["2026-03-31"]!} AND uid = 'b'`.execute(db().kysely);
    const result = await verifyReports(db().kysely, { date: "2026-03-31" });
    expect(result.verdict).toBe("failed");
    expect(result.problems).toContainEqual({ problem: "line_altered", date: "2026-03-31", runId: runIds["2026-03-31"], uid: "b" });
    expect(result.problems.map(describeProblem).join("\n")).toContain("2026-03-31: line of user b was altered");
    // Other dates are untouched.
    expect((await verifyReports(db().kysely, { date: "2026-04-01" })).problems).toEqual([]);
    await sql`UPDATE reconciliation_user_reports SET wallet_points = wallet_points - 1 WHERE run_id = ${runIds["2026-03-31"]!} AND uid = 'b'`.execute(db().kysely);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });

  it("a line whose hash was recomputed by the editor still breaks the run checksum", async () => {
    await sql`UPDATE reconciliation_user_reports SET action = 'ok', delta = 0, line_hash = 'forged' WHERE run_id = ${runIds["2026-03-30"]!} AND uid = 'c'`.execute(db().kysely);
    const result = await verifyReports(db().kysely);
    expect(result.problems.map((problem) => problem.problem)).toEqual(expect.arrayContaining(["line_altered", "run_altered", "checksum_mismatch"]));
  });

  it("an edited run row fails verify, naming its date and field; the chain after it breaks too", async () => {
    await sql`UPDATE reconciliation_runs SET violations = 7 WHERE id = ${runIds["2026-03-31"]!}`.execute(db().kysely);
    const result = await verifyReports(db().kysely, { date: "2026-03-31" });
    expect(result.problems).toContainEqual({ problem: "run_altered", date: "2026-03-31", runId: runIds["2026-03-31"], field: "violations", stored: 7, fromLines: 0 });
    await sql`UPDATE reconciliation_runs SET checksum = ${"0".repeat(64)} WHERE id = ${runIds["2026-03-31"]!}`.execute(db().kysely);
    const all = await verifyReports(db().kysely);
    expect(all.problems).toContainEqual({ problem: "checksum_mismatch", date: "2026-03-31", runId: runIds["2026-03-31"] });
    expect(all.problems).toContainEqual({ problem: "chain_broken", date: "2026-04-01", runId: runIds["2026-04-01"], chainPosition: 3 });
  });
});

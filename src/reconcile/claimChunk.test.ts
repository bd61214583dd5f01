import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { claimChunk } from "./claimChunk.js";
import { observeRange } from "./observeRange.js";
import { openRun, STALE_AFTER_MS } from "./openRun.js";
import { verifyReports } from "./verifyReports.js";
import { runReconciliation } from "./runReconciliation.js";

const T0 = new Date("2026-08-01T02:00:00.000Z");
const later = new Date(T0.getTime() + STALE_AFTER_MS + 1000);

describeEachEngine("chunks of a run and a process that went silent", (db) => {
  it("a run left by a crashed process is taken over and completed, each user checked once", async () => {
    for (let index = 0; index < 9; index++) {
      await withTransaction(db(), (trx) =>
        postEntry(trx, { uid: `c${index}`, kind: "purchase", amount: 5, idempotencyKey: `c-${index}`, source: "test", now: T0 }),
      );
    }
    const opened = await openRun(db(), { date: "2026-07-31", policy: "adjust_ledger", chunkUsers: 3, mode: "start", now: T0 });
    expect(opened).toMatchObject({ outcome: "opened", created: true });
    const ghost = await claimChunk(db(), opened.outcome === "opened" ? opened.runId : 0, "ghost", T0);
    expect(ghost?.chunk_no).toBe(0);

    // While the ghost's claim is fresh, a new start is refused and its chunk is not handed out.
    const refused = await runReconciliation(db(), { date: "2026-07-31", policy: "adjust_ledger", chunkUsers: 3, mode: "start", now: () => T0 });
    expect(refused.outcome).toBe("in_progress");

    const resumed = await runReconciliation(db(), { date: "2026-07-31", policy: "adjust_ledger", chunkUsers: 3, mode: "start", now: () => later, holder: "heir" });
    if (resumed.outcome !== "completed") throw new Error(resumed.outcome);
    expect(resumed.run).toMatchObject({ usersChecked: 9, violations: 0, status: "completed" });
    const chunks = await db().kysely.selectFrom("reconciliation_chunks").select(["chunk_no", "status", "claimed_by"]).orderBy("chunk_no").execute();
    expect(chunks.every((chunk) => chunk.status === "done" && chunk.claimed_by === "heir")).toBe(true);
  });

  it("a chunk taken over after its first claimer wrote its lines is swept again, each line kept once", async () => {
    for (let index = 0; index < 6; index++) {
      await withTransaction(db(), (trx) =>
        postEntry(trx, { uid: `t${index}`, kind: "purchase", amount: 7, idempotencyKey: `t-${index}`, source: "test", now: T0 }),
      );
    }
    const date = "2026-07-30";
    const opened = await openRun(db(), { date, policy: "adjust_ledger", chunkUsers: 100, mode: "start", now: T0 });
    if (opened.outcome !== "opened") throw new Error(opened.outcome);
    const first = await claimChunk(db(), opened.runId, "ghost", T0);
    expect(first).toMatchObject({ chunk_no: 0, firstClaim: true });
    const ghostSaw = await observeRange(db(), { runId: opened.runId, date, chunk: first!, holder: "ghost", firstClaim: first!.firstClaim });
    const wallets = (await db().kysely.selectFrom("wallets").select("uid").orderBy("uid").execute()).map((wallet) => wallet.uid);
    expect(ghostSaw).toMatchObject({ kept: true, usersChecked: wallets.length });

    // The ghost goes silent before marking the chunk done; the heir's claim is not a first one.
    const retaken = await claimChunk(db(), opened.runId, "heir", later);
    expect(retaken).toMatchObject({ chunk_no: 0, firstClaim: false });
    const heirSaw = await observeRange(db(), { runId: opened.runId, date, chunk: retaken!, holder: "heir", firstClaim: retaken!.firstClaim });
    expect(heirSaw).toMatchObject({ kept: true, drifted: [] });
    await db().kysely.updateTable("reconciliation_chunks").set({ status: "done" }).where("run_id", "=", opened.runId).execute();

    const finished = await runReconciliation(db(), { date, policy: "adjust_ledger", chunkUsers: 100, mode: "join", now: () => later, holder: "heir" });
    if (finished.outcome !== "completed") throw new Error(finished.outcome);
    const lines = await db().kysely.selectFrom("reconciliation_user_reports").select("uid").where("run_id", "=", opened.runId).execute();
    expect(lines.map((line) => line.uid).sort()).toEqual([...wallets].sort());
    expect(finished.run.usersChecked).toBe(wallets.length);
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });
});

import type { Db } from "../../src/storage/openDatabase.js";
import { runChecksum } from "../../src/reconcile/reportHashes.js";
import { summarizeLines } from "../../src/reconcile/summarizeLines.js";

/**
 * Rewrites a chained run exactly as a build before provider findings joined the chain
 * completed it: checksum formula 2, no findings count or digest. Only for a run nothing
 * links to yet and that committed to no finding (the first run, say), with no signing key.
 */
export async function rewriteAsVersion2(db: Db, runId: number): Promise<void> {
  const run = await db.kysely.selectFrom("reconciliation_runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
  const figures = {
    runDate: run.run_date,
    healPolicy: run.heal_policy,
    usersChecked: Number(run.users_checked),
    violations: Number(run.violations),
    refused: Number(run.refused),
    adjustmentAbsTotal: Number(run.adjustment_abs_total),
    chainPosition: Number(run.chain_position),
    status: run.status,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
  };
  const checksum = runChecksum(2, run.previous_checksum, figures, (await summarizeLines(db.kysely, runId, run.run_date)).digest);
  await db.kysely.updateTable("reconciliation_runs").set({ checksum_version: 2, checksum, findings_count: 0, findings_digest: null }).where("id", "=", runId).execute();
}

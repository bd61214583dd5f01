import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { isStale } from "./openRun.js";
import { commitFindings } from "./reportFindings.js";
import { CHECKSUM_VERSION, runChecksum } from "./reportHashes.js";
import { signHead, type ChainHead } from "./reportSigning.js";
import { summarizeLines, type LinesSummary } from "./summarizeLines.js";
import type { KeyObject } from "node:crypto";

export type FinalizeOutcome =
  /** This process chained the run: `head` is the chain's new head, signed if a key is configured. */
  | { outcome: "completed"; head: ChainHead & { signature: string | null } }
  /** Another process had already completed it. */
  | { outcome: "already_completed" }
  /** Chunks remain with other processes; the last of them finalizes. */
  | { outcome: "others_working" };

/** Both engines: one chain, extended by one run at a time. */
const CHAIN_LOCK_KEY = 727_274_004;

/**
 * Completes a run once all its chunks are done: totals and the line digest come from
 * the stored lines themselves, or from `swept` when the caller wrote every line of the
 * run and folded them as it wrote them (`SweepFold`: the same figures and digest without
 * reading the lines back), then, in one short transaction, the run takes the next
 * chain position, its finish time, the provider findings no run has committed to yet
 * (`commitFindings`), the checksum of (previous checksum, its position, status, times,
 * figures, line digest, findings) and the Ed25519 signature of the new head.
 */
export async function finalizeRun(db: Db, runId: number, now: () => Date, signingKey: KeyObject | null, swept: LinesSummary | null = null): Promise<FinalizeOutcome> {
  const open = await db.kysely
    .selectFrom("reconciliation_chunks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("run_id", "=", runId)
    .where("status", "!=", "done")
    .executeTakeFirstOrThrow();
  if (Number(open.n) > 0) return { outcome: "others_working" };
  const run = await db.kysely.selectFrom("reconciliation_runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
  if (run.status === "completed") return { outcome: "already_completed" };
  const takeOver = run.status === "finalizing" && isStale(run.heartbeat_at, now());
  const claimed = await db.kysely
    .updateTable("reconciliation_runs")
    .set({ status: "finalizing", heartbeat_at: now().toISOString() })
    .where("id", "=", runId)
    .where("status", "=", takeOver ? "finalizing" : "running")
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return { outcome: "others_working" };

  const lines = swept ?? (await summarizeLines(db.kysely, runId, run.run_date));
  const head = await withTransaction(db, async (trx) => {
    await db.engine.lockKey(trx, CHAIN_LOCK_KEY);
    const previous = await trx
      .selectFrom("reconciliation_runs")
      .select(["checksum", "chain_position"])
      .where("chain_position", "is not", null)
      .orderBy("chain_position", "desc")
      .limit(1)
      .executeTakeFirst();
    const previousChecksum = previous?.checksum ?? null;
    const findings = await commitFindings(trx, runId, run.run_date);
    const figures = {
      runDate: run.run_date,
      healPolicy: run.heal_policy,
      usersChecked: lines.usersChecked,
      violations: lines.violations,
      refused: lines.refused,
      adjustmentAbsTotal: lines.adjustmentAbsTotal,
      chainPosition: Number(previous?.chain_position ?? 0) + 1,
      status: "completed",
      startedAt: run.started_at,
      finishedAt: now().toISOString(),
      findings,
    };
    const checksum = runChecksum(CHECKSUM_VERSION, previousChecksum, figures, lines.digest);
    const next = { position: figures.chainPosition, date: run.run_date, checksum };
    const signature = signingKey ? signHead(signingKey, next) : null;
    await trx
      .updateTable("reconciliation_runs")
      .set({
        status: figures.status,
        finished_at: figures.finishedAt,
        users_checked: figures.usersChecked,
        violations: figures.violations,
        refused: figures.refused,
        adjustment_abs_total: figures.adjustmentAbsTotal,
        previous_checksum: previousChecksum,
        checksum,
        checksum_version: CHECKSUM_VERSION,
        chain_position: figures.chainPosition,
        signature,
        findings_count: findings.count,
        findings_digest: findings.digest,
      })
      .where("id", "=", runId)
      .execute();
    return { ...next, signature };
  });
  return { outcome: "completed", head };
}

import { sql } from "kysely";
import { postEntries } from "../ledger/postEntries.js";
import { statementChunks } from "../storage/setBased.js";
import type { Trx } from "../storage/withTransaction.js";
import { adjustedLine, adjustmentEntry, isTransientHealError, type AdjustPlan, type HealRun } from "./healUser.js";
import type { Observation } from "./planHeal.js";
import type { ReportLine } from "./reportHashes.js";

/** A drifted user whose adjust_ledger heal is to be written: what was read under the wallet lock, and the plan. */
export interface Adjustment {
  seen: Observation;
  plan: AdjustPlan;
}

/** A wallet was not at the version the heal read under its lock; the one-by-one path decides it instead. */
class UnexpectedWallet extends Error {}

/**
 * Writes the adjust_ledger heals of a chunk's drifted users together: their entries
 * through `postEntries` (a handful of statements for all of them, where one user at a
 * time cost about eight round trips each), then their claims in one insert. Every wallet
 * is already locked by `readHealCandidates`, so each posts exactly what `postEntry`
 * with the read's `expectedWalletVersion` would; the versions are checked anyway.
 *
 * All of it runs in the savepoint `heal_batch`. If anything in it fails (a database
 * error, a wallet not at the version read), the savepoint is rolled back and `null`
 * returned: the caller heals the same users one by one, each in its own savepoint, so
 * one user's failure stays that user's. A transient error leaves as it came, for
 * `withTransaction` to run the whole heal transaction again.
 */
export async function healAdjustments(trx: Trx, run: HealRun, adjustments: readonly Adjustment[], now: Date): Promise<ReportLine[] | null> {
  await sql`SAVEPOINT heal_batch`.execute(trx);
  try {
    const posted = await postEntries(trx, adjustments.map(({ seen, plan }) => adjustmentEntry(run, seen, plan, now)));
    const lines = adjustments.map(({ seen, plan }, index) => {
      const outcome = posted[index]!;
      if (outcome.outcome === "posted" && outcome.wallet.version !== seen.walletVersion) throw new UnexpectedWallet(seen.uid);
      return adjustedLine(seen, plan, outcome);
    });
    const claims = lines.filter((line) => line.action === "adjusted");
    for (const chunk of statementChunks(claims, 6)) {
      await trx
        .insertInto("reconciliation_heals")
        .values(chunk.map((line) => ({ run_date: run.date, uid: line.uid, run_id: run.runId, action: "adjusted", entry_id: line.adjustmentEntryId, created_at: now.toISOString() })))
        .execute();
    }
    await sql`RELEASE SAVEPOINT heal_batch`.execute(trx);
    return lines;
  } catch (error) {
    if (isTransientHealError(error)) throw error;
    await sql`ROLLBACK TO SAVEPOINT heal_batch`.execute(trx);
    await sql`RELEASE SAVEPOINT heal_batch`.execute(trx);
    return null;
  }
}

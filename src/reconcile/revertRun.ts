import { recordAudit } from "../audit/recordAudit.js";
import { runIdempotent } from "../idempotency/runIdempotent.js";
import { lockWallets } from "../ledger/lockWallets.js";
import { postEntry } from "../ledger/postEntry.js";
import { restoreWallet } from "../ledger/restoreWallet.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import { readReport } from "./readReports.js";

/** A line the ledger would not let move back, with the ledger's reason; nothing of it changed. */
export interface RefusedRevert {
  uid: string;
  reason: string;
}

export type RevertOutcome =
  | { outcome: "reverted"; runId: number; reverted: number; alreadyReverted: number; entryIds: number[]; refused: RefusedRevert[] }
  /** 404: no completed run for that date. */
  | { outcome: "run_not_found" };

interface HealedLine {
  uid: string;
  delta: number;
  action: string;
  adjustment_entry_id: number | null;
}

/**
 * Undoes what the latest completed run of a date healed, with new writes and never
 * by editing history. An `adjusted` line gets a `reconcile_adjustment` of the opposite
 * amount (the wallet does not move, as it did not when healed), referencing the entry
 * it cancels in `source_ref`; a `restored` wallet is moved back by its drift, audited.
 * Each revert is idempotent per date and user. A line the ledger refuses (a wallet that
 * would leave its range, say) is listed under `refused` with its reason, nothing of it is
 * written, its key stays unclaimed so a later revert can try again, and the others go on.
 */
export async function revertRun(db: Db, input: { date: string; actor: string; now: () => Date }): Promise<RevertOutcome> {
  const report = await readReport(db.kysely, input.date);
  if (!report || report.status !== "completed") return { outcome: "run_not_found" };
  let reverted = 0;
  let alreadyReverted = 0;
  const entryIds: number[] = [];
  const refused: RefusedRevert[] = [];
  let after = "";
  for (;;) {
    const lines: HealedLine[] = await db.kysely
      .selectFrom("reconciliation_user_reports")
      .select(["uid", "delta", "action", "adjustment_entry_id"])
      .where("run_id", "=", report.runId)
      .where("action", "in", ["adjusted", "restored"])
      .where("uid", ">", after)
      .orderBy("uid")
      .limit(1000)
      .execute();
    for (const line of lines) {
      let result: number | null;
      try {
        result = await withTransaction(db, (trx) => revertLine(trx, report.runId, input.date, line, input.actor, input.now()));
      } catch (error) {
        if (!(error instanceof RevertRefused)) throw error;
        refused.push({ uid: line.uid, reason: error.reason });
        continue;
      }
      if (result === null) alreadyReverted += 1;
      else {
        reverted += 1;
        if (result > 0) entryIds.push(result);
      }
    }
    if (lines.length < 1000) break;
    after = lines[lines.length - 1]!.uid;
  }
  return { outcome: "reverted", runId: report.runId, reverted, alreadyReverted, entryIds, refused };
}

/** Thrown inside a line's transaction so that its claim and writes roll back together. */
class RevertRefused extends Error {
  constructor(readonly reason: string) {
    super(`revert refused: ${reason}`);
  }
}

/** The new entry's id (0 for a wallet move), or null when this line was reverted before. */
async function revertLine(trx: Trx, runId: number, date: string, line: HealedLine, actor: string, now: Date): Promise<number | null> {
  const key = `reconcile-revert:${date}:${line.uid}`;
  if (line.action === "adjusted") {
    const posted = await postEntry(trx, {
      uid: line.uid,
      kind: "reconcile_adjustment",
      amount: -Number(line.delta),
      idempotencyKey: key,
      source: "reconcile",
      sourceRef: `revert-of:${line.adjustment_entry_id}`,
      reason: `revert of reconciliation ${date} (run ${runId})`,
      now,
    });
    if (posted.outcome === "duplicate") return null;
    if (posted.outcome !== "posted") throw new RevertRefused(posted.outcome);
    return posted.entry.id;
  }
  // Claimed under the key before anything moves: a second revert of this date and user
  // (replayed, or under an older record's fingerprint) moves nothing.
  const moved = await runIdempotent(trx, "reconcile_revert", key, { date, uid: line.uid }, now, () => moveBack(trx, runId, date, line, actor, now));
  return moved.kind === "fresh" ? 0 : null;
}

/** Moves a restored wallet back by the drift its heal closed, audited. */
async function moveBack(trx: Trx, runId: number, date: string, line: HealedLine, actor: string, now: Date): Promise<"reverted"> {
  const wallet = await lockWallets(trx, [line.uid]).select(["points", "version"]).executeTakeFirstOrThrow();
  const points = wallet.points + Number(line.delta);
  const restored = await restoreWallet(trx, { uid: line.uid, points, expectedWalletVersion: wallet.version, now });
  if (restored.outcome !== "restored") throw new RevertRefused(restored.outcome);
  await recordAudit(trx, {
    actor,
    action: "wallet.restore_revert",
    subject: line.uid,
    details: { runId, date, from: wallet.points, to: points },
    now,
  });
  return "reverted";
}

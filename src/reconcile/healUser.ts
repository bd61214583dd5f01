import { recordAudit } from "../audit/recordAudit.js";
import { postEntry } from "../ledger/postEntry.js";
import { restoreWallet } from "../ledger/restoreWallet.js";
import { capabilitiesOf } from "../storage/capabilities.js";
import type { Trx } from "../storage/withTransaction.js";
import { planHeal, type HealPlan, type HealPolicy, type Observation } from "./planHeal.js";
import { readObservation } from "./readObservations.js";
import type { ReportLine } from "./reportHashes.js";
import { writeLines } from "./writeLines.js";

export interface HealRun {
  runId: number;
  date: string;
  policy: HealPolicy;
}

/**
 * Heals the drifted users of a chunk in `trx`, in the given (user-id) order, and writes
 * their report lines in the same `trx` with one statement, so a heal is never without
 * its line. Returns the lines.
 */
export async function healUsers(trx: Trx, run: HealRun, uids: readonly string[], now: () => Date): Promise<ReportLine[]> {
  const lines: ReportLine[] = [];
  for (const uid of uids) lines.push(await healUser(trx, run, uid, now()));
  await writeLines(trx, run.runId, run.date, lines);
  return lines;
}

/**
 * Heals one user in `trx`. The wallet row is locked and read first, then its entries
 * are summed: every entry writer locks the wallet before writing, so this read and the
 * heal see one state that nobody can change until commit. The plan made from the
 * sweep's read is therefore re-made here; if a purchase landed in between, the fresh
 * read (not the old one) decides.
 */
async function healUser(trx: Trx, run: HealRun, uid: string, now: Date): Promise<ReportLine> {
  const fresh = await readObservation(trx, uid, { lock: capabilitiesOf(trx).rowLocks });
  if (!fresh) throw new Error(`wallet ${uid} disappeared during reconciliation`);
  const plan = planHeal(fresh, run.policy, run.date);
  return applyPlan(trx, run, fresh, plan, now);
}

async function applyPlan(trx: Trx, run: HealRun, seen: Observation, plan: HealPlan, now: Date): Promise<ReportLine> {
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount };
  switch (plan.action) {
    case "ok":
      return { ...base, delta: 0, action: "ok", adjustmentEntryId: null };
    case "reported":
      return { ...base, delta: plan.delta, action: "reported", adjustmentEntryId: null };
    case "adjust":
      return adjust(trx, run, seen, plan, now);
    case "restore":
      return restore(trx, run, seen, plan, now);
    default: {
      const never: never = plan;
      throw new Error(`unhandled heal plan ${JSON.stringify(never)}`);
    }
  }
}

async function adjust(trx: Trx, run: HealRun, seen: Observation, plan: Extract<HealPlan, { action: "adjust" }>, now: Date): Promise<ReportLine> {
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: plan.delta };
  const posted = await postEntry(trx, {
    uid: seen.uid,
    kind: "reconcile_adjustment",
    amount: plan.amount,
    idempotencyKey: plan.idempotencyKey,
    source: "reconcile",
    sourceRef: `run:${run.runId}`,
    reason: `reconciliation ${run.date}: wallet ${seen.walletPoints}, ledger ${seen.ledgerSum}`,
    expectedWalletVersion: seen.walletVersion,
    now,
  });
  switch (posted.outcome) {
    case "posted":
      return { ...base, action: "adjusted", adjustmentEntryId: posted.entry.id };
    // This date's heal for this user was already written (the drift is new since): at most once per date.
    case "duplicate":
      return { ...base, action: "already_healed", adjustmentEntryId: posted.entry.id };
    case "conflict":
      return { ...base, action: "already_healed", adjustmentEntryId: posted.existing.id };
    default:
      // stale_wallet cannot happen under the lock taken above; the rest do not apply to this kind.
      throw new Error(`unexpected reconcile_adjustment outcome ${posted.outcome} for ${seen.uid}`);
  }
}

async function restore(trx: Trx, run: HealRun, seen: Observation, plan: Extract<HealPlan, { action: "restore" }>, now: Date): Promise<ReportLine> {
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: plan.delta };
  const claimed = await trx
    .insertInto("idempotency_records")
    .values({ scope: "reconcile_heal", key: plan.idempotencyKey, request_hash: "", outcome: "restored", created_at: now.toISOString() })
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst();
  if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return { ...base, action: "already_healed", adjustmentEntryId: null };
  const restored = await restoreWallet(trx, { uid: seen.uid, points: plan.points, expectedWalletVersion: seen.walletVersion, now });
  if (restored.outcome !== "restored") throw new Error(`wallet ${seen.uid} changed under its lock`);
  await recordAudit(trx, {
    actor: "reconcile",
    action: "wallet.restore",
    subject: seen.uid,
    details: { runId: run.runId, date: run.date, from: seen.walletPoints, to: plan.points, ledgerCount: seen.ledgerCount },
    now,
  });
  return { ...base, action: "restored", adjustmentEntryId: null };
}

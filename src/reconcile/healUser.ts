import { recordAudit } from "../audit/recordAudit.js";
import type { BatchEntryInput } from "../ledger/postEntries.js";
import { postEntry, type PostEntryOutcome } from "../ledger/postEntry.js";
import { restoreWallet } from "../ledger/restoreWallet.js";
import { isRetryable, type Trx } from "../storage/withTransaction.js";
import type { ExactReading } from "./exactFigures.js";
import { planHeal, type HealPlan, type HealPolicy, type Observation, type RefusalReason } from "./planHeal.js";
import type { HealCandidate } from "./readHealCandidates.js";
import type { ReportLine } from "./reportHashes.js";
import { unreachable } from "../unreachable.js";

export interface HealRun {
  runId: number;
  date: string;
  policy: HealPolicy;
}

/** Called once, just before the heal's first write: the caller opens the user's savepoint there. */
export type BeforeWrite = () => Promise<void>;

/**
 * Heals one user in `trx` from what `readHealCandidates` read under the wallet lock
 * (every entry writer locks the wallet first, so that state holds until commit) and
 * returns their line. A line that says `refused` may follow a partial write: the caller
 * rolls back to the savepoint `beforeWrite` opened (see `healUsers`).
 */
export async function healUser(trx: Trx, run: HealRun, candidate: HealCandidate, now: Date, beforeWrite: BeforeWrite): Promise<ReportLine> {
  if (candidate.reading === null) return refusedLine(candidate.uid, undefined, "heal_failed", "the wallet disappeared during reconciliation");
  if (!candidate.reading.inRange) return outOfRangeLine(candidate.reading);
  const seen = candidate.reading.observation;
  const plan = planHeal(seen, run.policy, run.date);
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, reason: null, detail: null };
  switch (plan.action) {
    case "ok":
      return { ...base, delta: 0, action: "ok", adjustmentEntryId: null };
    case "reported":
      return { ...base, delta: plan.delta, action: "reported", adjustmentEntryId: null };
    case "refuse":
      return refusedLine(seen.uid, seen, plan.reason, plan.detail);
    case "adjust":
    case "restore":
      // This date's heal for this user was already written (the drift is new since): at most once per date.
      if (candidate.earlier) return { ...base, delta: plan.delta, action: "already_healed", adjustmentEntryId: candidate.earlier.entryId };
      await beforeWrite();
      return plan.action === "adjust" ? adjust(trx, run, seen, plan, now) : restore(trx, run, seen, plan, now);
  }
  return unreachable(plan, "heal plan");
}

/** The line of a user whose heal could not be written; the figures are the ones read, if any. */
export function refusedLine(uid: string, seen: Observation | undefined, reason: RefusalReason, detail: string): ReportLine {
  const figures = seen
    ? { walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: seen.walletPoints - seen.ledgerSum }
    : { walletPoints: 0, ledgerSum: 0, ledgerCount: 0, delta: 0 };
  return { uid, ...figures, action: "refused", adjustmentEntryId: null, reason, detail };
}

/** Past the exact range the numeric columns hold 0 (they are read as numbers); the detail holds the exact figures. */
function outOfRangeLine(reading: Extract<ExactReading, { inRange: false }>): ReportLine {
  const line = refusedLine(reading.uid, undefined, "out_of_exact_range", reading.detail);
  return { ...line, ledgerCount: reading.ledgerCount };
}

/**
 * The claim that makes a heal happen at most once per date and user whatever the
 * policy: one row per (date, user) in `reconciliation_heals`, written in the heal's
 * transaction (its primary key refuses a second one). Under the wallet lock nobody
 * else can be healing this user, so the absence of a claim read before still holds.
 */
async function claimHeal(trx: Trx, run: HealRun, uid: string, action: "adjusted" | "restored", entryId: number | null, now: Date): Promise<void> {
  await trx
    .insertInto("reconciliation_heals")
    .values({ run_date: run.date, uid, run_id: run.runId, action, entry_id: entryId, created_at: now.toISOString() })
    .execute();
}

export type AdjustPlan = Extract<HealPlan, { action: "adjust" }>;

/** The `reconcile_adjustment` entry of an adjust_ledger heal, as `postEntry` and `postEntries` take it. */
export function adjustmentEntry(run: HealRun, seen: Observation, plan: AdjustPlan, now: Date): BatchEntryInput {
  return {
    uid: seen.uid,
    kind: "reconcile_adjustment",
    amount: plan.amount,
    idempotencyKey: plan.idempotencyKey,
    source: "reconcile",
    sourceRef: `run:${run.runId}`,
    reason: `reconciliation ${run.date}: wallet ${seen.walletPoints}, ledger ${seen.ledgerSum}`,
    now,
  };
}

/** The line an adjust_ledger heal gets from the ledger's answer; an `adjusted` line needs its claim written. */
export function adjustedLine(seen: Observation, plan: AdjustPlan, posted: PostEntryOutcome): ReportLine {
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: plan.delta, reason: null, detail: null };
  switch (posted.outcome) {
    case "posted":
      return { ...base, action: "adjusted", adjustmentEntryId: posted.entry.id };
    case "duplicate":
      return { ...base, action: "already_healed", adjustmentEntryId: posted.entry.id };
    case "conflict":
      return { ...base, action: "already_healed", adjustmentEntryId: posted.existing.id };
    case "insufficient_points":
    case "original_not_found":
    case "invalid_reversal":
    case "stale_wallet":
    case "out_of_range":
      return refusedLine(seen.uid, seen, "ledger_refused", `the ledger answered ${posted.outcome} to a reconcile_adjustment of ${plan.amount}`);
  }
  return unreachable(posted, "ledger outcome");
}

async function adjust(trx: Trx, run: HealRun, seen: Observation, plan: AdjustPlan, now: Date): Promise<ReportLine> {
  const posted = await postEntry(trx, { ...adjustmentEntry(run, seen, plan, now), expectedWalletVersion: seen.walletVersion });
  const line = adjustedLine(seen, plan, posted);
  if (line.action === "adjusted") await claimHeal(trx, run, seen.uid, "adjusted", line.adjustmentEntryId, now);
  return line;
}

async function restore(trx: Trx, run: HealRun, seen: Observation, plan: Extract<HealPlan, { action: "restore" }>, now: Date): Promise<ReportLine> {
  const base = { uid: seen.uid, walletPoints: seen.walletPoints, ledgerSum: seen.ledgerSum, ledgerCount: seen.ledgerCount, delta: plan.delta, reason: null, detail: null };
  const restored = await restoreWallet(trx, { uid: seen.uid, points: plan.points, expectedWalletVersion: seen.walletVersion, now });
  switch (restored.outcome) {
    case "restored":
      await claimHeal(trx, run, seen.uid, "restored", null, now);
      await recordAudit(trx, {
        actor: "reconcile",
        action: "wallet.restore",
        subject: seen.uid,
        details: { runId: run.runId, date: run.date, from: seen.walletPoints, to: plan.points, ledgerCount: seen.ledgerCount },
        now,
      });
      return { ...base, action: "restored", adjustmentEntryId: null };
    case "stale_wallet":
    case "out_of_range":
      return refusedLine(seen.uid, seen, "ledger_refused", `the ledger answered ${restored.outcome} to restoring the wallet`);
  }
  return unreachable(restored, "restore outcome");
}

/**
 * `withTransaction` also retries a unique violation, since a concurrent writer may have
 * won a race; in a heal every write happens under the user's wallet lock, so one is not a
 * race but this user's failure, and retrying it would only fail the chunk five times.
 */
export function isTransientHealError(error: unknown): boolean {
  return isRetryable(error) && (error as { code?: unknown }).code !== "23505";
}

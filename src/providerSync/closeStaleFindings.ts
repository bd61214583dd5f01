import { recordAudit } from "../audit/recordAudit.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import { reversalRecorded } from "../webhooks/reversePurchase.js";
import { creditOf, storedEventOf } from "./compareRecords.js";
import type { FindingKind } from "./ProviderRecords.js";
import { toFinding, type ProviderFinding } from "./storeFindings.js";

/**
 * Why a finding closed without an admin:
 * - `fixed_by_delivery`: the ledger now holds what the finding said was missing, under
 *   the provider's own key (a late webhook delivery, a replay or a backfill applied it);
 * - `fixed_by_replay`: a delivery the sync imported but could not apply has since been applied;
 * - `provider_shows_paid`: the provider now lists as paid a purchase it did not know or showed unpaid.
 */
export const CLOSE_REASONS = ["fixed_by_delivery", "fixed_by_replay", "provider_shows_paid"] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** The audit action of a close by a sync. */
export const CLOSE_ACTION = "provider_finding.close";

/** Open findings re-checked per sync; past this, the rest wait for the next sync. */
const MAX_RECHECKED = 10_000;

const CREDIT_KINDS: readonly FindingKind[] = ["paid_not_credited", "user_unknown"];
const REVERSAL_KINDS: readonly FindingKind[] = ["refund_not_reversed", "chargeback_not_reversed", "chargeback_won_not_restored"];

/** Whether the cause of an open finding is gone from the ledger's side, and why; null while it stands. */
async function fixedReason(trx: Trx, finding: ProviderFinding): Promise<CloseReason | null> {
  if (CREDIT_KINDS.includes(finding.kind)) {
    const credit = finding.detail.credit as { purchaseRefs?: unknown } | undefined;
    const refs = Array.isArray(credit?.purchaseRefs) ? credit.purchaseRefs.filter((ref): ref is string => typeof ref === "string") : [finding.subject];
    return refs.length > 0 && (await creditOf(trx, refs)) ? "fixed_by_delivery" : null;
  }
  if (REVERSAL_KINDS.includes(finding.kind)) return (await reversalRecorded(trx, finding.subject)) ? "fixed_by_delivery" : null;
  if (finding.kind === "missing_delivery") {
    return (await storedEventOf(trx, finding.provider, finding.subject))?.status === "processed" ? "fixed_by_replay" : null;
  }
  return null;
}

/**
 * At the end of a provider sync, inside its last transaction: every open finding of the
 * provider whose cause has since been fixed (`fixedReason`), and every `credited_not_paid`
 * on a purchase the provider now shows paid (`paidRefs`, from this run's answers), is
 * marked `resolved` with its reason and audited as `provider_finding.close`. Nothing else
 * is written: the ledger is never touched here. Returns the findings closed.
 */
export async function closeStaleFindings(
  trx: Trx,
  input: { provider: Provider; runId: string; now: Date; paidRefs: ReadonlySet<string> },
): Promise<ProviderFinding[]> {
  const open = await trx
    .selectFrom("provider_findings")
    .selectAll()
    .where("provider", "=", input.provider)
    .where("status", "=", "open")
    .orderBy("id")
    .limit(MAX_RECHECKED)
    .execute();
  const toClose: { finding: ProviderFinding; reason: CloseReason }[] = [];
  for (const finding of open.map(toFinding)) {
    const reason = await fixedReason(trx, finding);
    if (reason) toClose.push({ finding, reason });
  }
  const paidRefs = [...input.paidRefs];
  for (let start = 0; start < paidRefs.length; start += 500) {
    const reported = await trx
      .selectFrom("provider_findings")
      .selectAll()
      .where("provider", "=", input.provider)
      .where("kind", "=", "credited_not_paid")
      .where("status", "=", "reported")
      .where("subject", "in", paidRefs.slice(start, start + 500))
      .execute();
    for (const finding of reported.map(toFinding)) toClose.push({ finding, reason: "provider_shows_paid" });
  }
  const closed: ProviderFinding[] = [];
  for (const { finding, reason } of toClose) {
    const row = await trx
      .updateTable("provider_findings")
      .set({ status: "resolved", closed_by: input.runId, closed_at: input.now.toISOString(), close_reason: reason })
      .where("id", "=", finding.id)
      .where("status", "=", finding.status)
      .returningAll()
      .executeTakeFirst();
    if (!row) continue;
    await recordAudit(trx, {
      actor: `provider_sync:${input.runId}`,
      action: CLOSE_ACTION,
      subject: finding.id,
      details: { kind: finding.kind, subject: finding.subject, from: finding.status, reason },
      now: input.now,
    });
    closed.push(toFinding(row));
  }
  return closed;
}

import { recordAudit } from "../audit/recordAudit.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
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

/** Open findings re-checked per transaction; every open finding is re-checked, a page at a time. */
export const RECHECK_PAGE = 500;

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

interface CloseInput {
  provider: Provider;
  runId: string;
  now: Date;
}

/**
 * At the end of a provider sync, inside its last transaction: every `credited_not_paid`
 * on a purchase the provider now shows paid (`paidRefs`, from this run's answers) is
 * marked `resolved` (`provider_shows_paid`) and audited as `provider_finding.close`.
 * Returns the findings closed.
 */
export async function closePaidFindings(trx: Trx, input: CloseInput & { paidRefs: ReadonlySet<string> }): Promise<ProviderFinding[]> {
  const toClose: { finding: ProviderFinding; reason: CloseReason }[] = [];
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
  return closeFindings(trx, input, toClose);
}

/**
 * After a provider sync's last transaction: every open finding of the provider whose
 * cause has since been fixed (`fixedReason`) is marked `resolved` with its reason and
 * audited. All open findings are re-checked, in pages of `pageSize` by id, each page in
 * its own short transaction, so none waits behind the first pages for ever and no
 * transaction grows with their number. A crash part way leaves the rest open until the
 * next sync re-checks them. Nothing else is written: the ledger is never touched here.
 * Returns the findings closed.
 */
export async function closeFixedFindings(db: Db, input: CloseInput, pageSize = RECHECK_PAGE): Promise<ProviderFinding[]> {
  const closed: ProviderFinding[] = [];
  let after: string | null = null;
  for (;;) {
    const from: string | null = after;
    const page = await withTransaction(db, async (trx) => {
      let query = trx.selectFrom("provider_findings").selectAll().where("provider", "=", input.provider).where("status", "=", "open");
      if (from !== null) query = query.where("id", ">", from);
      const open = (await query.orderBy("id").limit(pageSize).execute()).map(toFinding);
      const toClose: { finding: ProviderFinding; reason: CloseReason }[] = [];
      for (const finding of open) {
        const reason = await fixedReason(trx, finding);
        if (reason) toClose.push({ finding, reason });
      }
      return { last: open.at(-1)?.id ?? null, full: open.length === pageSize, closed: await closeFindings(trx, input, toClose) };
    });
    closed.push(...page.closed);
    if (!page.full || page.last === null) return closed;
    after = page.last;
  }
}

/** Marks each finding `resolved` with its reason if its status is still the one read, audited. */
async function closeFindings(trx: Trx, input: CloseInput, toClose: { finding: ProviderFinding; reason: CloseReason }[]): Promise<ProviderFinding[]> {
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

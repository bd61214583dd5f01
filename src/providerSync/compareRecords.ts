import type { Environment, ReversalPolicy } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import { applyStoredEvent } from "../webhooks/applyStoredEvent.js";
import { readStoredDelivery } from "../webhooks/readStoredDelivery.js";
import { reversalRecorded } from "../webhooks/reversePurchase.js";
import { dayOf, type FindingDraft } from "./FindingDraft.js";
import type { UnlistedCredit } from "./unlistedCredits.js";
import type { ChargebackRecord, DeliveryRecord, ProviderRecord, PurchaseRecord, RefundRecord } from "./ProviderRecords.js";

export interface CompareContext {
  provider: Provider;
  environment: Environment;
  now: Date;
  reversalPolicy: ReversalPolicy;
  runId: string;
}

export interface Compared {
  findings: FindingDraft[];
  /** Deliveries stored and applied through the live path. */
  repaired: number;
  /** Records that agree with Reckon. */
  matched: number;
  /** References of the purchases the provider listed, so the credits it did not list can be looked up. */
  listedPurchaseRefs: string[];
  /** References of the listed purchases the provider shows paid: a `credited_not_paid` finding on one of them closes. */
  paidPurchaseRefs: string[];
}

/** One finding per cause: a cause seen twice in a run (its delivery, then its purchase) is one finding, keyed like the stored row. */
export const causeOf = (finding: Pick<FindingDraft, "kind" | "subject">): string => `${finding.kind} ${finding.subject}`;

/**
 * Compares one page of a provider's records with what Reckon holds, inside `trx`, and
 * repairs what the provider's own payload can repair: a delivery Reckon never stored
 * is stored as imported and applied exactly like a webhook (so a later real delivery
 * is a duplicate). Everything else becomes a finding (docs/decisions/provider-sync-repairs.md).
 * Deliveries come first in a walk, so a purchase or reversal they repaired is found
 * applied by the time its own record is compared. `seen` holds the causes the run
 * already reported (across its pages), so each cause is one finding.
 */
export async function compareRecords(trx: Trx, context: CompareContext, records: readonly ProviderRecord[], seen: Set<string> = new Set()): Promise<Compared> {
  const compared: Compared = { findings: [], repaired: 0, matched: 0, listedPurchaseRefs: [], paidPurchaseRefs: [] };
  // Oldest delivery first, as the provider sent them: a refund then finds its purchase.
  const ordered = [...records].sort((a, b) => (a.kind === "delivery" && b.kind === "delivery" ? a.occurredAt.localeCompare(b.occurredAt) : 0));
  for (const record of ordered) {
    const finding = await compareOne(trx, context, record, compared);
    if (finding === null) compared.matched++;
    else if (!seen.has(causeOf(finding))) {
      seen.add(causeOf(finding));
      compared.findings.push(finding);
    }
  }
  return compared;
}

async function compareOne(trx: Trx, context: CompareContext, record: ProviderRecord, compared: Compared): Promise<FindingDraft | null> {
  const base = { provider: context.provider, uid: null, amountMinor: null };
  switch (record.kind) {
    case "delivery":
      return compareDelivery(trx, context, record, compared);
    case "purchase":
      compared.listedPurchaseRefs.push(...record.credit.purchaseRefs);
      if (record.status === "paid") compared.paidPurchaseRefs.push(...record.credit.purchaseRefs);
      return comparePurchase(trx, context, record);
    case "refund":
      return compareRefund(trx, context, record);
    case "chargeback":
      return compareChargeback(trx, context, record);
    case "malformed":
      return {
        ...base,
        kind: "malformed_record",
        subject: `${record.source}:${record.subject}`,
        status: "reported",
        date: dayOf(context.now.toISOString()),
        detail: { source: record.source, problem: record.detail },
      };
  }
}

/** The stored delivery of a provider's event, if Reckon holds one. */
export async function storedEventOf(trx: Trx, provider: Provider, eventId: string) {
  return trx.selectFrom("webhook_events").select(["id", "status"]).where("provider", "=", provider).where("event_id", "=", eventId).executeTakeFirst();
}

async function compareDelivery(trx: Trx, context: CompareContext, record: DeliveryRecord, compared: Compared): Promise<FindingDraft | null> {
  if (await storedEventOf(trx, context.provider, record.eventId)) return null;
  const base = { provider: context.provider, subject: record.eventId, date: dayOf(record.occurredAt), uid: null, amountMinor: null };
  const rawBody = Buffer.from(record.payload);
  const read = readStoredDelivery(context.provider, rawBody);
  if (read.event.kind === "invalid_payload" || read.eventId !== record.eventId) {
    const problem = read.event.kind === "invalid_payload" ? read.event.detail : "the payload's event id is not the listed one";
    return { ...base, kind: "malformed_record", status: "reported", detail: { source: "delivery", eventType: record.eventType, problem } };
  }
  // A delivery Reckon would store and ignore is no difference that matters.
  if (read.event.kind === "ignored") return null;
  if (read.livemode !== null && read.livemode !== (context.environment === "prod")) {
    return { ...base, kind: "malformed_record", status: "reported", detail: { source: "delivery", problem: `a ${read.livemode ? "live" : "test"} event in the ${context.environment} environment` } };
  }
  const row = await trx
    .insertInto("webhook_events")
    .values({
      provider: context.provider,
      event_id: record.eventId,
      event_type: read.eventType,
      status: "received",
      raw_body: rawBody,
      headers: JSON.stringify({ source: "provider_sync", migrationId: context.runId }),
      livemode: read.livemode === null ? null : read.livemode ? 1 : 0,
      imported: 1,
      received_at: record.occurredAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const result = await applyStoredEvent(trx, row, { now: context.now, reversalPolicy: context.reversalPolicy }, read);
  const event = read.event;
  const detail = { eventType: read.eventType, deliveryState: record.state, applied: result.status, ...(result.status === "failed" ? { reason: result.reason } : {}) };
  if (result.status === "failed" && result.reason === "unknown_user" && event.kind === "credit") {
    // Paid and not credited because the provider's own payload names no user: the one
    // finding of this sale (its purchase record adds none), waiting for an admin's uid.
    return {
      ...base,
      kind: "paid_not_credited",
      subject: event.purchaseKey,
      status: "open",
      amountMinor: event.paidMinor,
      detail: { ...detail, why: "no_usable_uid", eventId: record.eventId, occurredAt: record.occurredAt, credit: event },
    };
  }
  if (result.status === "processed") compared.repaired++;
  return { ...base, kind: "missing_delivery", status: result.status === "processed" ? "repaired" : "open", detail };
}

/** Reckon's credit of a purchase known by any of `refs`, if there is one. */
export async function creditOf(trx: Trx, refs: readonly string[]) {
  return trx.selectFrom("webhook_purchases").select(["purchase_ref", "uid", "paid_minor", "entry_id", "created_at"]).where("purchase_ref", "in", [...refs]).executeTakeFirst();
}

async function comparePurchase(trx: Trx, context: CompareContext, record: PurchaseRecord): Promise<FindingDraft | null> {
  const credited = await creditOf(trx, record.credit.purchaseRefs);
  const base = { provider: context.provider, subject: record.credit.purchaseKey, date: dayOf(record.occurredAt), amountMinor: record.credit.paidMinor };
  const said = { providerId: record.providerId, providerStatus: record.providerStatus, currency: record.currency };
  if (record.status !== "paid") {
    if (!credited) return null;
    return { ...base, kind: "credited_not_paid", status: "reported", uid: credited.uid, detail: { ...said, creditedEntryId: Number(credited.entry_id) } };
  }
  if (credited) {
    if (Number(credited.paid_minor) === record.credit.paidMinor) return null;
    return { ...base, kind: "amount_mismatch", status: "reported", uid: credited.uid, detail: { ...said, providerPaidMinor: record.credit.paidMinor, creditedPaidMinor: Number(credited.paid_minor) } };
  }
  return {
    ...base,
    kind: "paid_not_credited",
    status: "open",
    uid: record.uid,
    detail: { ...said, occurredAt: record.occurredAt, credit: { kind: "credit", ...record.credit, uid: record.uid } },
  };
}

async function compareRefund(trx: Trx, context: CompareContext, record: RefundRecord): Promise<FindingDraft | null> {
  if (record.status !== "completed" || (await reversalRecorded(trx, record.refundKey))) return null;
  return {
    provider: context.provider,
    kind: "refund_not_reversed",
    subject: record.refundKey,
    status: "open",
    date: dayOf(record.occurredAt),
    uid: (await creditOf(trx, [record.purchaseRef]))?.uid ?? null,
    amountMinor: record.refundedMinor,
    detail: { providerStatus: record.providerStatus, event: { kind: "refund", purchaseRef: record.purchaseRef, refunds: [{ refundKey: record.refundKey, refundedMinor: record.refundedMinor }] } },
  };
}

async function compareChargeback(trx: Trx, context: CompareContext, record: ChargebackRecord): Promise<FindingDraft | null> {
  const reversed = await reversalRecorded(trx, record.reversalKey);
  const base = { provider: context.provider, date: dayOf(record.occurredAt), uid: (await creditOf(trx, [record.purchaseRef]))?.uid ?? null, amountMinor: record.amountMinor };
  if (record.status !== "won") {
    if (reversed) return null;
    return { ...base, kind: "chargeback_not_reversed", subject: record.reversalKey, status: "open", detail: { providerStatus: record.providerStatus, event: { kind: "chargeback", purchaseRef: record.purchaseRef, reversalKey: record.reversalKey } } };
  }
  // Won and never reversed nets to nothing; reversed and never restored owes the points back.
  if (!reversed || (await reversalRecorded(trx, record.reinstatementKey))) return null;
  return {
    ...base,
    kind: "chargeback_won_not_restored",
    subject: record.reinstatementKey,
    status: "open",
    detail: { providerStatus: record.providerStatus, event: { kind: "chargeback_won", purchaseRef: record.purchaseRef, reversalKey: record.reversalKey, reinstatementKey: record.reinstatementKey } },
  };
}

/** Findings for credits the walk did not list: unknown to the provider or not paid there; a listed one is compared as usual. */
export async function compareUnlisted(trx: Trx, context: CompareContext, credits: readonly UnlistedCredit[], seen: Set<string> = new Set()): Promise<FindingDraft[]> {
  const findings: FindingDraft[] = [];
  for (const { ref, purchase } of credits) {
    if (purchase !== null) {
      const finding = await comparePurchase(trx, context, purchase);
      if (finding !== null && !seen.has(causeOf(finding))) {
        seen.add(causeOf(finding));
        findings.push(finding);
      }
      continue;
    }
    const credited = await creditOf(trx, [ref]);
    if (!credited) continue;
    findings.push({
      provider: context.provider,
      kind: "credited_not_paid",
      subject: ref,
      status: "reported",
      date: dayOf(new Date(credited.created_at).toISOString()),
      uid: credited.uid,
      amountMinor: Number(credited.paid_minor),
      detail: { providerStatus: "unknown to the provider", creditedEntryId: Number(credited.entry_id) },
    });
  }
  return findings;
}

import type { ReversalPolicy } from "../config.js";
import { recordAudit } from "../audit/recordAudit.js";
import { WEBHOOK_UID_PATTERN, type PaymentEvent } from "../providers/PaymentEvent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { ApplyResult } from "../webhooks/ApplyResult.js";
import { applyPaymentEvent } from "../webhooks/applyStoredEvent.js";
import { markStoredStateChanged } from "../ops/storedStateChanged.js";
import { readFinding, toFinding, type ProviderFinding } from "./storeFindings.js";

export type ResolveOutcome =
  /** 200: applied through the live path (or found already applied); the finding is `resolved`. */
  | { outcome: "resolved"; finding: ProviderFinding; applied: ApplyResult }
  /** 404 */
  | { outcome: "finding_not_found" }
  /** 409: repaired, resolved, or a kind that is only reported. */
  | { outcome: "finding_not_open"; status: string }
  /** 400: a credit finding needs the user id to credit. */
  | { outcome: "uid_required" }
  /** 409: the ledger refused it (an unknown product, a purchase not yet credited…); nothing changed. */
  | { outcome: "not_applied"; result: ApplyResult };

class NotApplied extends Error {
  constructor(readonly result: ApplyResult) {
    super("not applied");
  }
}

const CREDIT_KINDS = new Set(["paid_not_credited", "user_unknown"]);

/** The audit action of an admin's resolve. */
export const RESOLVE_ACTION = "provider_finding.resolve";

/**
 * Acts on an open finding with one audited action: a credit the provider's records
 * could not attribute is credited to `uid`, a refund or chargeback never applied is
 * applied; each through the functions a webhook's event goes through, under the
 * provider's own keys, so a delivery that arrives later is a duplicate.
 */
export async function resolveFinding(
  db: Db,
  input: { id: string; uid?: string; actor: string; now: Date; reversalPolicy: ReversalPolicy },
): Promise<ResolveOutcome> {
  const found = await readFinding(db.kysely, input.id);
  if (!found) return { outcome: "finding_not_found" };
  if (found.status !== "open") return { outcome: "finding_not_open", status: found.status };
  let event: PaymentEvent;
  if (CREDIT_KINDS.has(found.kind)) {
    const uid = input.uid ?? found.uid;
    if (!uid || !WEBHOOK_UID_PATTERN.test(uid)) return { outcome: "uid_required" };
    event = { ...(found.detail.credit as Extract<PaymentEvent, { kind: "credit" }>), uid };
  } else if (found.detail.event) {
    event = found.detail.event as PaymentEvent;
  } else {
    return { outcome: "finding_not_open", status: found.status };
  }
  try {
    return await withTransaction(db, async (trx) => {
      const applied = await applyPaymentEvent(trx, found.provider, event, { now: input.now, reversalPolicy: input.reversalPolicy, sourceRef: `${found.provider}:finding:${found.id}` });
      if (applied.status !== "processed") throw new NotApplied(applied);
      const closed = await trx
        .updateTable("provider_findings")
        .set({ status: "resolved", closed_by: input.actor, closed_at: input.now.toISOString(), close_reason: "resolved_by_admin", ...(event.kind === "credit" ? { uid: event.uid } : {}) })
        .where("id", "=", found.id)
        .where("status", "=", "open")
        .returningAll()
        .executeTakeFirst();
      if (!closed) throw new NotApplied({ status: "failed", reason: "ledger_conflict", detail: "the finding was closed meanwhile" });
      await recordAudit(trx, {
        actor: input.actor,
        action: RESOLVE_ACTION,
        subject: found.id,
        details: { kind: found.kind, subject: found.subject, ...(event.kind === "credit" ? { uid: event.uid } : {}) },
        now: input.now,
      });
      markStoredStateChanged();
      return { outcome: "resolved" as const, finding: toFinding(closed), applied };
    });
  } catch (error) {
    if (error instanceof NotApplied) return { outcome: "not_applied", result: error.result };
    throw error;
  }
}

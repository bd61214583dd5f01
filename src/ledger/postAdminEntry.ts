import { recordAudit } from "../audit/recordAudit.js";
import { readFlag } from "../flags/runtimeFlags.js";
import { runIdempotent, type IdempotentResult } from "../idempotency/runIdempotent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import { postEntry, type PlainEntryOutcome, type UnversionedEntryOutcome } from "./postEntry.js";
import type { Entry, EntryKind } from "./types.js";

/** What an admin asks of the ledger: the request's key, who asks and why. */
export interface AdminRequest {
  actor: string;
  reason: string;
  idempotencyKey: string;
  now: Date;
}

/**
 * Runs an admin's write (an adjustment, a reversal) in one transaction, at most once per
 * key in `scope` (`runIdempotent`), and not at all while adjustments are frozen. A freeze
 * is the server's state, not the request's answer: it is not remembered under the key,
 * so the same request succeeds once the freeze is lifted.
 */
export function runAdminWrite<O>(
  db: Db,
  scope: string,
  request: AdminRequest,
  fingerprint: unknown,
  work: (trx: Trx) => Promise<O>,
): Promise<IdempotentResult<O | { outcome: "adjustments_frozen" }>> {
  return withTransaction(db, async (trx) => {
    if (await readFlag(trx, "adjustments_frozen")) return { kind: "fresh", outcome: { outcome: "adjustments_frozen" } };
    return runIdempotent(trx, scope, request.idempotencyKey, fingerprint, request.now, () => work(trx));
  });
}

/** The entry an admin's request posts; its ledger key is `<keyPrefix>:<Idempotency-Key>`. */
interface AdminEntry {
  uid: string;
  kind: EntryKind;
  amount: number;
  keyPrefix: string;
  reversesEntryId?: number;
}

interface AdminAudit {
  action: string;
  details: (posted: Entry) => Record<string, unknown>;
}

/**
 * Posts an admin's entry and, when it is posted, audits it as `action` with `details`
 * of the new entry, in the same `trx`.
 */
export function postAdminEntry(trx: Trx, request: AdminRequest, entry: AdminEntry & { reversesEntryId?: undefined }, audit: AdminAudit): Promise<PlainEntryOutcome>;
export function postAdminEntry(trx: Trx, request: AdminRequest, entry: AdminEntry, audit: AdminAudit): Promise<UnversionedEntryOutcome>;
export async function postAdminEntry(trx: Trx, request: AdminRequest, entry: AdminEntry, audit: AdminAudit): Promise<UnversionedEntryOutcome> {
  const result = await postEntry(trx, {
    uid: entry.uid,
    kind: entry.kind,
    amount: entry.amount,
    idempotencyKey: `${entry.keyPrefix}:${request.idempotencyKey}`,
    reversesEntryId: entry.reversesEntryId ?? null,
    source: "admin",
    sourceRef: request.actor,
    reason: request.reason,
    now: request.now,
  });
  if (result.outcome === "posted") {
    await recordAudit(trx, { actor: request.actor, action: audit.action, subject: entry.uid, details: audit.details(result.entry), now: request.now });
  }
  return result;
}

import { createHash } from "node:crypto";
import { rangeOf, type BackfillRequest } from "../backfill/BackfillRequest.js";
import { entriesWrittenSince, lastEntryId, planHash } from "../backfill/capturePlan.js";
import type { PlannedEntry } from "../backfill/backfillRuns.js";
import type { BackfillDeps } from "../backfill/startBackfill.js";
import { compareRecords, compareUnlisted } from "./compareRecords.js";
import type { FindingDraft } from "./FindingDraft.js";
import type { ProviderReadFailure, ProviderRecord } from "./ProviderRecords.js";
import { compareContext, syncClient } from "./runProviderSync.js";
import { lookUpUnlistedCredits } from "./unlistedCredits.js";

export interface SyncPlan {
  scanned: number;
  repaired: number;
  matched: number;
  entries: PlannedEntry[];
  findings: FindingDraft[];
  hash: string;
}

class SyncPlanRollback extends Error {
  constructor(readonly plan: SyncPlan) {
    super("dry run rolled back");
  }
}

/** The plan's hash: the entries a run would post, then each finding it would store. */
function syncPlanHash(entries: PlannedEntry[], findings: FindingDraft[]): string {
  const hash = createHash("sha256").update(`${planHash(entries)}\n`);
  for (const finding of findings) hash.update(`${JSON.stringify([finding.kind, finding.subject, finding.status])}\n`);
  return hash.digest("hex");
}

/**
 * What a provider sync would do now, without doing it: the provider's records for the
 * window are read first (at most `maxEvents`, rounded up to a page), then compared and
 * repaired in one transaction on one snapshot that is rolled back. The entries it
 * wrote and the findings it saw are the plan; nothing stays written.
 */
export async function planProviderSync(deps: BackfillDeps, request: BackfillRequest, runId: string): Promise<{ ok: true; plan: SyncPlan } | { ok: false; failure: ProviderReadFailure }> {
  const client = syncClient(deps, request);
  const window = rangeOf(request);
  const records: ProviderRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.readPage(window, cursor);
    if (!page.ok) return page;
    records.push(...page.records);
    cursor = page.next;
  } while (cursor !== null && records.length < request.maxEvents);
  const listed = new Set(records.flatMap((record) => (record.kind === "purchase" ? record.credit.purchaseRefs : [])));
  const unlisted = cursor === null ? await lookUpUnlistedCredits(deps.db.kysely, client, request.provider!, window, listed) : { ok: true as const, credits: [] };
  if (!unlisted.ok) return unlisted;
  try {
    await deps.db.kysely.transaction().setIsolationLevel("repeatable read").execute(async (trx) => {
      const before = await lastEntryId(trx);
      const context = compareContext(deps, request, runId);
      const seen = new Set<string>();
      const compared = await compareRecords(trx, context, records, seen);
      const findings = [...compared.findings, ...(await compareUnlisted(trx, context, unlisted.credits, seen))];
      const entries = await entriesWrittenSince(trx, before);
      throw new SyncPlanRollback({
        scanned: records.length + unlisted.credits.length,
        repaired: compared.repaired,
        matched: compared.matched,
        entries,
        findings,
        hash: syncPlanHash(entries, findings),
      });
    });
  } catch (error) {
    if (error instanceof SyncPlanRollback) return { ok: true, plan: error.plan };
    throw error;
  }
  throw new Error("a dry run must end in its rollback");
}

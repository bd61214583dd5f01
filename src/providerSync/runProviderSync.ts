import { rangeOf, type BackfillRequest } from "../backfill/BackfillRequest.js";
import { readBackfillRun } from "../backfill/backfillRuns.js";
import type { Ending } from "../backfill/guardRun.js";
import type { RunHandle } from "../backfill/runLease.js";
import type { BackfillDeps } from "../backfill/startBackfill.js";
import { markStoredStateChanged } from "../ops/storedStateChanged.js";
import { withTransaction } from "../storage/withTransaction.js";
import { closeFixedFindings, closePaidFindings } from "./closeStaleFindings.js";
import { compareRecords, compareUnlisted, type CompareContext } from "./compareRecords.js";
import type { ProviderClient, ProviderReadFailure } from "./ProviderRecords.js";
import { saveSyncProgress } from "./saveSyncProgress.js";
import { storeFindings } from "./storeFindings.js";
import { lookUpUnlistedCredits } from "./unlistedCredits.js";

/** The cursor of a run whose walk is over; what is left is looking up the credits it did not list. */
export const WALK_DONE = "walk_done";

export function syncClient(deps: BackfillDeps, request: BackfillRequest): ProviderClient {
  const client = request.provider ? deps.sync?.clientFor(request.provider) : null;
  if (!client) throw new Error(`no API client is configured for provider ${request.provider ?? "(none)"}`);
  return client;
}

export function compareContext(deps: BackfillDeps, request: BackfillRequest, runId: string): CompareContext {
  return { provider: request.provider!, environment: deps.sync?.environment ?? "test", now: deps.now(), reversalPolicy: deps.reversalPolicy, runId };
}

export const providerFailed = (failure: ProviderReadFailure): Ending => ({
  end: "finished",
  status: "failed",
  failure: { reason: "provider_failed", detail: `${failure.code}: ${failure.message}`.slice(0, 500) },
});

/**
 * A provider sync, page by page from `start`: each page is compared, repaired and its
 * findings stored in one transaction with the record's counts and cursor, so a run
 * that stops anywhere (the provider gave up answering, the process died) resumes at
 * its last committed page, and a page applied twice changes nothing the second time.
 * `maxEvents` bounds the records read (checked between pages). Run it through `guardRun`.
 */
export async function runProviderSync(deps: BackfillDeps, run: RunHandle, request: BackfillRequest, start: { cursor: string | null; scanned: number }): Promise<Ending> {
  const client = syncClient(deps, request);
  const window = rangeOf(request);
  const listed = new Set<string>();
  const paid = new Set<string>();
  const seen = new Set<string>();
  let cursor = start.cursor;
  let scanned = start.scanned;
  while (cursor !== WALK_DONE) {
    if (scanned >= request.maxEvents) return { end: "finished", status: "partial", failure: null };
    if ((await readBackfillRun(deps.db.kysely, run.id))?.status !== "running") return { end: "lost" };
    const page = await client.readPage(window, cursor);
    if (!page.ok) return providerFailed(page.failure);
    const next = page.next ?? WALK_DONE;
    const compared = await withTransaction(deps.db, async (trx) => {
      const context = compareContext(deps, request, run.id);
      const result = await compareRecords(trx, context, page.records, seen);
      await storeFindings(trx, run.id, result.findings, context.now);
      await saveSyncProgress(trx, run, { scanned: page.records.length, processed: result.repaired, skipped: result.matched, findings: result.findings }, next, context.now);
      return result;
    });
    for (const ref of compared.listedPurchaseRefs) listed.add(ref);
    for (const ref of compared.paidPurchaseRefs) paid.add(ref);
    scanned += page.records.length;
    cursor = next;
    markStoredStateChanged();
    // The provider does not say how many records a window holds: the bound is the only total known.
    deps.onProgress?.((await readBackfillRun(deps.db.kysely, run.id))!, request.maxEvents);
  }
  const unlisted = await lookUpUnlistedCredits(deps.db.kysely, client, request.provider!, window, listed);
  if (!unlisted.ok) return providerFailed(unlisted.failure);
  await withTransaction(deps.db, async (trx) => {
    const context = compareContext(deps, request, run.id);
    const findings = await compareUnlisted(trx, context, unlisted.credits, seen);
    await storeFindings(trx, run.id, findings, context.now);
    for (const { purchase } of unlisted.credits) if (purchase?.status === "paid") for (const ref of purchase.credit.purchaseRefs) paid.add(ref);
    await closePaidFindings(trx, { provider: context.provider, runId: run.id, now: context.now, paidRefs: paid });
    await saveSyncProgress(trx, run, { scanned: unlisted.credits.length, processed: 0, skipped: unlisted.credits.length - findings.length, findings }, undefined, context.now);
  });
  // After the run's own writes, so a cause this run repaired is found fixed.
  await closeFixedFindings(deps.db, { provider: request.provider!, runId: run.id, now: deps.now() });
  markStoredStateChanged();
  return { end: "finished", status: "completed", failure: null };
}

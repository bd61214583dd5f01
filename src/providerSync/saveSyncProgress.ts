import type { Kysely } from "kysely";
import { addRunProgress, FINDINGS_SAMPLE_LIMIT, type FindingSample } from "../backfill/backfillRuns.js";
import type { RunHandle } from "../backfill/runLease.js";
import type { Schema } from "../storage/schema.js";
import type { FindingDraft } from "./FindingDraft.js";

export interface SyncProgress {
  scanned: number;
  /** Deliveries repaired through the live path. */
  processed: number;
  /** Records that agree with Reckon. */
  skipped: number;
  findings: readonly FindingDraft[];
}

export const sampleOf = (draft: FindingDraft): FindingSample => ({
  kind: draft.kind,
  subject: draft.subject,
  status: draft.status,
  date: draft.date,
  uid: draft.uid,
  amountMinor: draft.amountMinor,
});

/**
 * Adds a page's progress to the run's record and moves its cursor, in the page's own
 * transaction and only while `run` holds the record (else RunNotHeld rolls the page back).
 */
export async function saveSyncProgress(db: Kysely<Schema>, run: RunHandle, progress: SyncProgress, cursor: string | undefined, now: Date): Promise<void> {
  const row = await db.selectFrom("data_migrations").select("findings_sample").where("id", "=", run.id).executeTakeFirstOrThrow();
  const sample = [...(JSON.parse(row.findings_sample) as FindingSample[]), ...progress.findings.map(sampleOf)].slice(0, FINDINGS_SAMPLE_LIMIT);
  await addRunProgress(
    db,
    run,
    { scanned: progress.scanned, processed: progress.processed, skipped: progress.skipped, errors: 0, findingsFound: progress.findings.length },
    { findings_sample: JSON.stringify(sample), ...(cursor === undefined ? {} : { cursor }) },
    now,
  );
}

import type { Kysely } from "kysely";
import { readReport, type RunSummary } from "../reconcile/readReports.js";
import type { Schema } from "../storage/schema.js";
import { findingsCommittedBy, findingsFoundOn, type FindingCount } from "./storeFindings.js";

/**
 * A day's run summary as the report route and `reckon reports show` give it: the
 * ledger's own proof, and next to it what provider sync found from the providers' own
 * records (docs/decisions/provider-findings.md). A run chained with checksum version 3
 * or later committed to its findings: they are the ones it covers, with the status it
 * saw. Before that (or while the run is still open) they are the findings found that day.
 */
export async function readDayReport(db: Kysely<Schema>, date: string): Promise<(RunSummary & { providerFindings: FindingCount[] }) | null> {
  const report = await readReport(db, date);
  if (!report) return null;
  const run = await db.selectFrom("reconciliation_runs").select("findings_digest").where("id", "=", report.runId).executeTakeFirstOrThrow();
  const providerFindings = run.findings_digest === null ? await findingsFoundOn(db, date) : await findingsCommittedBy(db, report.runId);
  return { ...report, providerFindings };
}

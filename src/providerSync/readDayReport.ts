import type { Kysely } from "kysely";
import { readReport, type RunSummary } from "../reconcile/readReports.js";
import type { Schema } from "../storage/schema.js";
import { findingsFoundOn, type FindingCount } from "./storeFindings.js";

/**
 * A day's run summary as the report route and `reckon reports show` give it: the
 * ledger's own proof, and next to it what provider sync found that day from the
 * providers' own records (docs/decisions/provider-findings.md).
 */
export async function readDayReport(db: Kysely<Schema>, date: string): Promise<(RunSummary & { providerFindings: FindingCount[] }) | null> {
  const report = await readReport(db, date);
  return report ? { ...report, providerFindings: await findingsFoundOn(db, date) } : null;
}

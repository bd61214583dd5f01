import { randomBytes } from "node:crypto";
import { sql, type Kysely, type Selectable } from "kysely";
import type { Provider } from "../providers/PaymentEvent.js";
import type { ProviderFindingsTable, Schema } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import type { FindingDraft } from "./FindingDraft.js";
import type { FindingKind, FindingStatus } from "./ProviderRecords.js";

export interface ProviderFinding extends FindingDraft {
  id: string;
  foundBy: string;
  foundAt: string;
  closedBy: string | null;
  closedAt: string | null;
  /** Why it was closed: `resolved_by_admin`, or a sync's `CloseReason` (`closeStaleFindings.ts`). */
  closeReason: string | null;
}

export function newFindingId(now: Date): string {
  return `pf_${now.toISOString().replace(/[-:]/g, "").slice(0, 15)}_${randomBytes(5).toString("hex")}`;
}

export function toFinding(row: Selectable<ProviderFindingsTable>): ProviderFinding {
  return {
    id: row.id,
    provider: row.provider as Provider,
    kind: row.kind as FindingKind,
    subject: row.subject,
    status: row.status as FindingStatus,
    date: row.date,
    uid: row.uid,
    amountMinor: row.amount_minor === null ? null : Number(row.amount_minor),
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    foundBy: row.found_by,
    foundAt: new Date(row.found_at).toISOString(),
    closedBy: row.closed_by,
    closedAt: row.closed_at === null ? null : new Date(row.closed_at).toISOString(),
    closeReason: row.close_reason,
  };
}

/**
 * Stores what a run found, once per (provider, kind, subject): a finding seen again
 * keeps its first record, so a second run over the same window adds nothing.
 */
export async function storeFindings(trx: Trx, runId: string, drafts: readonly FindingDraft[], now: Date): Promise<void> {
  for (const draft of drafts) {
    const closed = draft.status === "repaired";
    await trx
      .insertInto("provider_findings")
      .values({
        id: newFindingId(now),
        provider: draft.provider,
        kind: draft.kind,
        subject: draft.subject,
        status: draft.status,
        date: draft.date,
        uid: draft.uid,
        amount_minor: draft.amountMinor,
        detail: JSON.stringify(draft.detail),
        found_by: runId,
        found_at: now.toISOString(),
        closed_by: closed ? runId : null,
        closed_at: closed ? now.toISOString() : null,
      })
      .onConflict((conflict) => conflict.columns(["provider", "kind", "subject"]).doNothing())
      .execute();
  }
}

export interface FindingsQuery {
  provider?: Provider;
  date?: string;
  status?: FindingStatus;
  limit: number;
  /** Only findings listed after this one (by day, time found, id): the next page. */
  after?: Pick<ProviderFinding, "date" | "foundAt" | "id">;
}

export async function listFindings(db: Kysely<Schema>, query: FindingsQuery): Promise<ProviderFinding[]> {
  let select = db.selectFrom("provider_findings").selectAll();
  if (query.date) select = select.where("date", "=", query.date);
  if (query.provider) select = select.where("provider", "=", query.provider);
  if (query.status) select = select.where("status", "=", query.status);
  if (query.after !== undefined) {
    const { date, foundAt, id } = query.after;
    // A row-value comparison (SQLite and PostgreSQL alike) in the list's own order.
    select = select.where(sql<boolean>`(date, found_at, id) > (${date}, ${foundAt}, ${id})`);
  }
  const rows = await select.orderBy("date").orderBy("found_at").orderBy("id").limit(query.limit).execute();
  return rows.map(toFinding);
}

export async function readFinding(db: Kysely<Schema>, id: string): Promise<ProviderFinding | null> {
  const row = await db.selectFrom("provider_findings").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toFinding(row) : null;
}

export interface FindingCount {
  provider: string;
  kind: string;
  status: string;
  count: number;
}

/** Counts by provider, kind and status, for `reckon_provider_findings`. */
export async function countFindings(db: Kysely<Schema>): Promise<FindingCount[]> {
  const rows = await db
    .selectFrom("provider_findings")
    .select(["provider", "kind", "status", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy(["provider", "kind", "status"])
    .execute();
  return rows.map((row) => ({ provider: row.provider, kind: row.kind, status: row.status, count: Number(row.count) }));
}

/**
 * What provider sync found on `date` (UTC, by when it was found), by provider, kind and
 * status: the part of a day's reconciliation report that comes from the providers' own records.
 */
export async function findingsFoundOn(db: Kysely<Schema>, date: string): Promise<FindingCount[]> {
  const from = `${date}T00:00:00.000Z`;
  const to = new Date(Date.parse(from) + 86_400_000).toISOString();
  const rows = await db
    .selectFrom("provider_findings")
    .select(["provider", "kind", "status", (eb) => eb.fn.countAll<number>().as("count")])
    .where("found_at", ">=", from)
    .where("found_at", "<", to)
    .groupBy(["provider", "kind", "status"])
    .orderBy("provider")
    .orderBy("kind")
    .orderBy("status")
    .execute();
  return rows.map((row) => ({ provider: row.provider, kind: row.kind, status: row.status, count: Number(row.count) }));
}

/**
 * What a chained run committed to of the provider findings, by provider, kind and the
 * status the run saw (a finding closed since keeps the status it was committed with).
 */
export async function findingsCommittedBy(db: Kysely<Schema>, runId: number): Promise<FindingCount[]> {
  const rows = await db
    .selectFrom("provider_findings")
    .select(["provider", "kind", "report_status", (eb) => eb.fn.countAll<number>().as("count")])
    .where("report_run_id", "=", runId)
    .groupBy(["provider", "kind", "report_status"])
    .orderBy("provider")
    .orderBy("kind")
    .orderBy("report_status")
    .execute();
  return rows.map((row) => ({ provider: row.provider, kind: row.kind, status: row.report_status ?? "", count: Number(row.count) }));
}

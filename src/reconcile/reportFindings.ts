import { createHash, hash } from "node:crypto";
import { sql, type Kysely, type Selectable } from "kysely";
import { CLOSE_ACTION } from "../providerSync/closeStaleFindings.js";
import { RESOLVE_ACTION } from "../providerSync/resolveFinding.js";
import type { ProviderFindingsTable, Schema } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { LinesDigest } from "./reportHashes.js";

/**
 * Provider findings in the report chain (docs/decisions/provider-findings-in-report-chain.md).
 * The run chained next commits to every finding no run committed to yet, as it saw it:
 * each finding's canonical fields are hashed, the hashes (in finding-id order) fold into
 * a digest, and the run's checksum (version 3) covers their count and that digest. A
 * finding closed later keeps what the run committed to (`report_status`, `report_uid`);
 * the close itself is audited.
 */

/** What a run's checksum commits to of one finding: the fields below, in this order. */
export interface ReportFinding {
  id: string;
  provider: string;
  kind: string;
  /** The provider reference: an event id, a purchase key, a refund or chargeback key. */
  subject: string;
  /** The UTC day of the provider's record. */
  date: string;
  amountMinor: number | null;
  /** The user id as the run saw it (null when unknown). */
  uid: string | null;
  /** The status as the run saw it. */
  status: string;
  foundAt: string;
  /** SHA-256 of the finding's stored `detail` JSON: the order id, product, times and amounts as found. */
  detailSha256: string;
}

export type CommittedFinding = ReportFinding & { findingHash: string };

/** SHA-256 of `[runDate, id, provider, kind, subject, date, amountMinor, uid, status, foundAt, detailSha256]` as JSON. */
export function findingHash(runDate: string, finding: ReportFinding): string {
  const { id, provider, kind, subject, date, amountMinor, uid, status, foundAt, detailSha256 } = finding;
  return hash("sha256", JSON.stringify([runDate, id, provider, kind, subject, date, amountMinor, uid, status, foundAt, detailSha256]), "hex");
}

export interface FindingsSummary {
  count: number;
  digest: string;
}

/** Folds finding hashes, fed in finding-id order, into their count and digest. */
export class FindingsFold {
  readonly #digest = new LinesDigest();
  #count = 0;
  add(findingHashHex: string): void {
    this.#digest.add(findingHashHex);
    this.#count += 1;
  }
  summary(): FindingsSummary {
    return { count: this.#count, digest: this.#digest.hex() };
  }
}

/** Code-unit order, the same on every engine (a database collation may order `_` differently). */
export const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** An instant as ISO-8601 UTC whatever the engine returns; an edited value that is no instant stays as it is, to be caught by the hash. */
function isoOf(value: unknown): string {
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

type CommittedRow = Pick<
  Selectable<ProviderFindingsTable>,
  "id" | "provider" | "kind" | "subject" | "date" | "amount_minor" | "report_uid" | "report_status" | "found_at" | "detail" | "report_hash"
>;
const COMMITTED_COLUMNS = ["id", "provider", "kind", "subject", "date", "amount_minor", "report_uid", "report_status", "found_at", "detail", "report_hash"] as const;

function toCommitted(row: CommittedRow): CommittedFinding {
  return {
    id: row.id,
    provider: row.provider,
    kind: row.kind,
    subject: row.subject,
    date: row.date,
    amountMinor: row.amount_minor === null ? null : Number(row.amount_minor),
    uid: row.report_uid,
    status: row.report_status ?? "",
    foundAt: isoOf(row.found_at),
    detailSha256: createHash("sha256").update(row.detail).digest("hex"),
    findingHash: row.report_hash ?? "",
  };
}

/**
 * Inside the chain's transaction: `runId` takes every finding no run has committed to,
 * with its status and uid as they are now (one UPDATE, so a close racing it is either
 * seen whole or left to the next run), and stores each one's hash. Returns what the
 * run's checksum covers.
 */
export async function commitFindings(trx: Trx, runId: number, runDate: string): Promise<FindingsSummary> {
  await trx
    .updateTable("provider_findings")
    .set((eb) => ({ report_run_id: runId, report_status: eb.ref("status"), report_uid: eb.ref("uid") }))
    .where("report_run_id", "is", null)
    .execute();
  const rows = await trx.selectFrom("provider_findings").select(COMMITTED_COLUMNS).where("report_run_id", "=", runId).execute();
  const fold = new FindingsFold();
  const hashed = rows
    .map(toCommitted)
    .sort(byId)
    .map((finding) => ({ id: finding.id, hashHex: findingHash(runDate, finding) }));
  for (const { hashHex } of hashed) fold.add(hashHex);
  await storeHashes(trx, hashed);
  return fold.summary();
}

/** Rows per statement: the chain lock is held meanwhile, so one round trip per finding would cost a long outage's worth of findings dearly. */
const HASH_BATCH_ROWS = 500;

async function storeHashes(trx: Trx, hashed: readonly { id: string; hashHex: string }[]): Promise<void> {
  for (let start = 0; start < hashed.length; start += HASH_BATCH_ROWS) {
    const values = sql.join(hashed.slice(start, start + HASH_BATCH_ROWS).map(({ id, hashHex }) => sql`(${id}, ${hashHex})`));
    await sql`WITH hashed (id, report_hash) AS (VALUES ${values})
      UPDATE provider_findings SET report_hash = (SELECT hashed.report_hash FROM hashed WHERE hashed.id = provider_findings.id)
      WHERE id IN (SELECT id FROM hashed)`.execute(trx);
  }
}

/** A committed finding as verify reads it: what the run committed to, and the finding's state now. */
export interface CheckedFinding extends CommittedFinding {
  now: { status: string; uid: string | null };
}

/**
 * The findings `runId` committed to, each hash recomputed from its fields (and handed
 * to `onFinding` with the stored one, to name an edited finding); the digest is made
 * of the recomputed hashes.
 */
export async function summarizeFindings(
  db: Kysely<Schema>,
  runId: number,
  runDate: string,
  onFinding: (finding: CheckedFinding, recomputed: string) => void,
): Promise<FindingsSummary> {
  const rows = await db.selectFrom("provider_findings").select([...COMMITTED_COLUMNS, "status", "uid"]).where("report_run_id", "=", runId).execute();
  const fold = new FindingsFold();
  const findings = rows.map((row) => ({ ...toCommitted(row), now: { status: row.status, uid: row.uid } })).sort(byId);
  for (const finding of findings) {
    const recomputed = findingHash(runDate, finding);
    onFinding(finding, recomputed);
    fold.add(recomputed);
  }
  return fold.summary();
}

/** The audited actions that may close a finding after a run committed to it open. */
export const FINDING_CLOSE_ACTIONS = [RESOLVE_ACTION, CLOSE_ACTION] as const;

/**
 * Which of `findings` changed since their run committed to them without an audited
 * close: the only change allowed is open or reported → resolved (with the uid an admin
 * named), recorded in `audit_log` under the finding's id.
 */
export async function unauditedChanges(db: Kysely<Schema>, findings: readonly CheckedFinding[]): Promise<string[]> {
  const changed = findings.filter((finding) => finding.now.status !== finding.status || finding.now.uid !== finding.uid);
  if (changed.length === 0) return [];
  const audited = new Set<string>();
  for (let start = 0; start < changed.length; start += 500) {
    const rows = await db
      .selectFrom("audit_log")
      .select("subject")
      .where("action", "in", [...FINDING_CLOSE_ACTIONS])
      .where("subject", "in", changed.slice(start, start + 500).map((finding) => finding.id))
      .execute();
    for (const row of rows) audited.add(row.subject);
  }
  const closable = (finding: CheckedFinding) => (finding.status === "open" || finding.status === "reported") && finding.now.status === "resolved";
  return changed.filter((finding) => !(closable(finding) && audited.has(finding.id))).map((finding) => finding.id);
}

/**
 * Table types for the one query layer. Terminology (see DESIGN.md):
 *
 * - wallet: one user's balance row; `points` moves only together with an entry.
 * - entry: one immutable ledger row; the database refuses UPDATE and DELETE on it.
 * - webhook event: a raw provider delivery, stored before it is acknowledged.
 * - reconciliation run / user report: one sweep for one date and its per-user lines.
 * - data migration: one backfill operation with its progress.
 *
 * Timestamps are ISO-8601 UTC strings on both engines (`2026-01-01T00:00:00.000Z`);
 * points and money are integers that fit in a JS number (checked on read).
 */
import type { ColumnType, Generated } from "kysely";

export const ENTRY_KINDS = [
  "purchase",
  "spend",
  "reversal",
  "reinstatement",
  "admin_adjustment",
  "reconcile_adjustment",
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export const WEBHOOK_STATUSES = ["received", "processed", "failed", "ignored", "parked"] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

export const TOKEN_ROLES = ["service", "admin"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** A column the database fills on insert but that may be given. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface MetaTable {
  key: string;
  value: string;
}

export interface SchemaMigrationsTable {
  id: number;
  name: string;
  applied_at: string;
}

export interface WalletsTable {
  uid: string;
  points: number;
  version: number;
  /** Set when a reversal took the wallet below zero (REVERSAL_POLICY=allow_negative). */
  negative_flagged: Defaulted<number>;
  created_at: string;
  updated_at: string;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  uid: string;
  amount: number;
  kind: EntryKind;
  idempotency_key: string;
  /** The entry this one reverses (reversal) or restores (reinstatement). */
  reverses_entry_id: number | null;
  balance_after: number;
  /** What caused the entry: api, admin, webhook, reconcile, backfill, demo. */
  source: string;
  /** The cause's own id: a webhook event id, a run id, an actor. */
  source_ref: string | null;
  reason: string | null;
  /** SHA-256 of the entry's content, used to tell a duplicate from a conflicting reuse of a key. */
  content_hash: string;
  created_at: string;
}

export interface WebhookEventsTable {
  id: Generated<number>;
  provider: string;
  event_id: string;
  event_type: string;
  status: WebhookStatus;
  failure_reason: string | null;
  failure_detail: string | null;
  /** The delivery's bytes exactly as received and signed (BLOB / bytea, migration 7). */
  raw_body: Buffer;
  headers: string;
  livemode: number | null;
  imported: Defaulted<number>;
  /** For a parked event: the business key it waits for (e.g. `paynow:order:123`). */
  waiting_for: string | null;
  attempts: Defaulted<number>;
  received_at: string;
  processed_at: string | null;
}

export interface ReconciliationRunsTable {
  id: Generated<number>;
  run_date: string;
  status: string;
  heal_policy: string;
  started_at: string;
  finished_at: string | null;
  users_checked: Defaulted<number>;
  violations: Defaulted<number>;
  adjustment_abs_total: Defaulted<number>;
  checksum: string | null;
  previous_checksum: string | null;
  error: string | null;
  /** Last sign of life from a process working on the run (migration 3). */
  heartbeat_at: Defaulted<string | null>;
  /** 1, 2, 3… in the order runs completed: the order of the checksum chain (migration 3). */
  chain_position: Defaulted<number | null>;
  /** Users whose heal could not be written: their lines say `refused` (migration 6). */
  refused: Defaulted<number>;
  /** Which formula made `checksum`: 1 before migration 6, 2 since (it covers status and times). */
  checksum_version: Defaulted<number>;
  /** Ed25519 signature (base64) of the run's chain head, made with REPORT_SIGNING_KEY_FILE (migration 6). */
  signature: Defaulted<string | null>;
  /** How many provider findings the run committed to, and the digest of their hashes; null before checksum version 3 (migration 12). */
  findings_count: Defaulted<number>;
  findings_digest: Defaulted<string | null>;
}

export interface ReconciliationUserReportsTable {
  run_id: number;
  uid: string;
  wallet_points: number;
  ledger_sum: number;
  ledger_count: number;
  delta: number;
  action: string;
  adjustment_entry_id: number | null;
  line_hash: string;
  /** Why a `refused` line was not healed, a stable code; null on every other line (migration 6). */
  reason: Defaulted<string | null>;
  /** The refusal in words, with exact figures where they do not fit the numeric columns. */
  detail: Defaulted<string | null>;
}

/**
 * The claim that a user was healed for a date, whatever the policy (migration 6): a
 * heal happens only if it inserts this row, in the heal's own transaction.
 */
export interface ReconciliationHealsTable {
  run_date: string;
  uid: string;
  /** Null for claims carried over from before migration 6. */
  run_id: number | null;
  action: "adjusted" | "restored";
  /** The `reconcile_adjustment` entry of an `adjusted` heal. */
  entry_id: number | null;
  created_at: string;
}

/** One verified archive file of old reconciliation runs (migration 11); `pruned_at` once its runs left the database. */
export interface ReportArchivesTable {
  id: Generated<number>;
  /** The archive holds chained runs dated before this day. */
  before_date: string;
  first_position: number;
  last_position: number;
  /** The last archived run's head: what the first remaining run links to, and its signature. */
  last_date: string;
  last_checksum: string;
  last_signature: string | null;
  /** SHA-256 over the archived runs' positions and checksums: prune deletes only these runs. */
  runs_digest: string;
  runs: number;
  lines: number;
  file_path: string;
  file_sha256: string;
  created_at: string;
  pruned_at: string | null;
}

/** One user-id range of a run, claimed by one process at a time (migration 3). */
export interface ReconciliationChunksTable {
  run_id: number;
  chunk_no: number;
  /** Exclusive lower bound; null for the first chunk. */
  uid_after: string | null;
  /** Inclusive upper bound; null for the last chunk (it also takes wallets created during the run). */
  uid_last: string | null;
  status: "pending" | "claimed" | "done";
  claimed_by: string | null;
  claimed_at: string | null;
  users_checked: Defaulted<number>;
  violations: Defaulted<number>;
  adjustment_abs_total: Defaulted<number>;
  refused: Defaulted<number>;
}

export interface DataMigrationsTable {
  id: string;
  type: string;
  params: string;
  dry_run: number;
  status: string;
  scanned: Defaulted<number>;
  processed: Defaulted<number>;
  skipped: Defaulted<number>;
  errors: Defaulted<number>;
  error_samples: Defaulted<string>;
  cursor: string | null;
  plan_hash: string | null;
  max_events: Defaulted<number>;
  planned_entries: Defaulted<number>;
  plan_sample: Defaulted<string>;
  holder: string | null;
  started_at: string;
  finished_at: string | null;
  updated_at: string;
  heartbeat_at: string | null;
  failure_reason: string | null;
  failure_detail: string | null;
  /** Provider sync: findings this run saw (a dry run's too). */
  findings_found: Defaulted<number>;
  /** Provider sync: the first findings this run saw, JSON, bounded. */
  findings_sample: Defaulted<string>;
}

export interface ProductsTable {
  provider: string;
  product_id: string;
  points_per_unit: number;
  name: string | null;
  updated_at: string;
}

export interface RuntimeFlagsTable {
  name: string;
  value: string;
  updated_at: string;
  updated_by: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  role: TokenRole;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface IdempotencyRecordsTable {
  scope: string;
  key: string;
  request_hash: string;
  outcome: string;
  created_at: string;
}

export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

/** A purchase credited from a webhook, under every reference later events may use to find it. */
export interface WebhookPurchasesTable {
  /** Provider-prefixed: `paynow:order:<id>`, `stripe:payment_intent:<id>`, `stripe:checkout:<id>`. */
  purchase_ref: string;
  entry_id: number;
  uid: string;
  points: number;
  /** What was paid, in minor units: the denominator of a partial refund. */
  paid_minor: number;
  created_at: string;
}

/**
 * One refund, chargeback or won chargeback applied to a purchase; the record that it was
 * applied, even for zero points. The points a purchase keeps are a function of these rows
 * (docs/decisions/reversals-converge.md).
 */
export interface WebhookReversalsTable {
  /** The refund's, the chargeback's or the won chargeback's key. */
  reversal_key: string;
  purchase_ref: string;
  kind: "refund" | "chargeback" | "chargeback_won";
  refunded_minor: number;
  /** Points this event asked to move, before any clamp: positive reversed, negative restored. */
  points: number;
  /** Change of the points written off under REVERSAL_POLICY=clamp: positive when taken short, negative when no longer owed. */
  shortfall: Defaulted<number>;
  /** The first entry this event posted, if any. */
  entry_id: number | null;
  created_at: string;
  /** For a won chargeback, the key of the chargeback it closes; null otherwise. */
  chargeback_key: Defaulted<string | null>;
}

/** One difference between a provider's own records and Reckon (src/providerSync/ProviderRecords.ts). */
export interface ProviderFindingsTable {
  id: string;
  provider: string;
  kind: string;
  /** What it is about: an event id, a purchase reference, a refund or chargeback key. */
  subject: string;
  status: string;
  /** The UTC day of the provider's record. */
  date: string;
  uid: string | null;
  amount_minor: number | null;
  /** JSON: what the provider said and what Reckon holds (and, for a credit, the credit to apply). */
  detail: string;
  found_by: string;
  found_at: string;
  closed_by: string | null;
  closed_at: string | null;
  /** The run whose checksum commits to this finding, and the status, uid and hash it committed to (migration 12). */
  report_run_id: Defaulted<number | null>;
  report_status: Defaulted<string | null>;
  report_uid: Defaulted<string | null>;
  report_hash: Defaulted<string | null>;
  /** Why a finding was closed without an admin (`fixed_by_delivery`, `provider_shows_paid`), or by one (`resolved_by_admin`). */
  close_reason: Defaulted<string | null>;
}

export interface Schema {
  reckon_meta: MetaTable;
  reckon_schema_migrations: SchemaMigrationsTable;
  wallets: WalletsTable;
  ledger_entries: LedgerEntriesTable;
  webhook_events: WebhookEventsTable;
  reconciliation_runs: ReconciliationRunsTable;
  reconciliation_user_reports: ReconciliationUserReportsTable;
  reconciliation_chunks: ReconciliationChunksTable;
  reconciliation_heals: ReconciliationHealsTable;
  report_archives: ReportArchivesTable;
  data_migrations: DataMigrationsTable;
  products: ProductsTable;
  runtime_flags: RuntimeFlagsTable;
  audit_log: AuditLogTable;
  api_tokens: ApiTokensTable;
  idempotency_records: IdempotencyRecordsTable;
  job_leases: JobLeasesTable;
  webhook_purchases: WebhookPurchasesTable;
  webhook_reversals: WebhookReversalsTable;
  provider_findings: ProviderFindingsTable;
}

/** Every table, in an order safe for creating and for copying (referenced tables first). */
export const TABLES = [
  "reckon_meta",
  "reckon_schema_migrations",
  "wallets",
  "ledger_entries",
  "webhook_events",
  "reconciliation_runs",
  "reconciliation_user_reports",
  "data_migrations",
  "products",
  "runtime_flags",
  "audit_log",
  "api_tokens",
  "idempotency_records",
  "job_leases",
  "webhook_purchases",
  "webhook_reversals",
  "reconciliation_chunks",
  "reconciliation_heals",
  "report_archives",
  "provider_findings",
] as const satisfies readonly (keyof Schema)[];

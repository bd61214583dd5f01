import type { MigrationScript } from "./MigrationScript.js";

/**
 * SQLite migrations, append-only and numbered. A shipped migration is never edited:
 * a change is a new migration. Each script runs whole in one transaction.
 */
export const sqliteMigrations: readonly MigrationScript[] = [
  {
    id: 1,
    name: "initial",
    sql: `
CREATE TABLE reckon_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE wallets (
  uid TEXT PRIMARY KEY,
  points INTEGER NOT NULL,
  version INTEGER NOT NULL,
  negative_flagged INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE ledger_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL REFERENCES wallets(uid),
  amount INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('purchase','spend','reversal','reinstatement','admin_adjustment','reconcile_adjustment')),
  idempotency_key TEXT NOT NULL UNIQUE,
  reverses_entry_id INTEGER REFERENCES ledger_entries(id),
  balance_after INTEGER NOT NULL,
  source TEXT NOT NULL,
  source_ref TEXT,
  reason TEXT,
  content_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_entries_uid_id ON ledger_entries (uid, id);
CREATE INDEX ledger_entries_reverses ON ledger_entries (reverses_entry_id) WHERE reverses_entry_id IS NOT NULL;
CREATE INDEX ledger_entries_created ON ledger_entries (created_at);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE refused');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE refused');
END;

CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('received','processed','failed','ignored','parked')),
  failure_reason TEXT,
  failure_detail TEXT,
  raw_body TEXT NOT NULL,
  headers TEXT NOT NULL,
  livemode INTEGER,
  imported INTEGER NOT NULL DEFAULT 0,
  waiting_for TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  received_at TEXT NOT NULL,
  processed_at TEXT,
  UNIQUE (provider, event_id)
) STRICT;
CREATE INDEX webhook_events_status_received ON webhook_events (status, received_at);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
CREATE INDEX webhook_events_waiting ON webhook_events (waiting_for) WHERE waiting_for IS NOT NULL;

CREATE TABLE reconciliation_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_date TEXT NOT NULL,
  status TEXT NOT NULL,
  heal_policy TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  users_checked INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0,
  adjustment_abs_total INTEGER NOT NULL DEFAULT 0,
  checksum TEXT,
  previous_checksum TEXT,
  error TEXT
) STRICT;
CREATE INDEX reconciliation_runs_date ON reconciliation_runs (run_date);

CREATE TABLE reconciliation_user_reports (
  run_id INTEGER NOT NULL REFERENCES reconciliation_runs(id),
  uid TEXT NOT NULL,
  wallet_points INTEGER NOT NULL,
  ledger_sum INTEGER NOT NULL,
  ledger_count INTEGER NOT NULL,
  delta INTEGER NOT NULL,
  action TEXT NOT NULL,
  adjustment_entry_id INTEGER,
  line_hash TEXT NOT NULL,
  PRIMARY KEY (run_id, uid)
) STRICT;

CREATE TABLE data_migrations (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  params TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  status TEXT NOT NULL,
  scanned INTEGER NOT NULL DEFAULT 0,
  processed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  error_samples TEXT NOT NULL DEFAULT '[]',
  cursor TEXT,
  plan_hash TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX data_migrations_type_status ON data_migrations (type, status);

CREATE TABLE products (
  provider TEXT NOT NULL,
  product_id TEXT NOT NULL,
  points_per_unit INTEGER NOT NULL CHECK (points_per_unit > 0),
  name TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (provider, product_id)
) STRICT;

CREATE TABLE runtime_flags (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('service','admin')),
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE TABLE idempotency_records (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  outcome TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;

CREATE TABLE job_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at TEXT NOT NULL
) STRICT;
`,
  },
  {
    id: 2,
    name: "webhook_purchases_and_reversals",
    sql: `
CREATE TABLE webhook_purchases (
  purchase_ref TEXT PRIMARY KEY,
  entry_id INTEGER NOT NULL REFERENCES ledger_entries(id),
  uid TEXT NOT NULL,
  points INTEGER NOT NULL,
  paid_minor INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_purchases_entry ON webhook_purchases (entry_id);

CREATE TABLE webhook_reversals (
  reversal_key TEXT PRIMARY KEY,
  purchase_ref TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('refund','chargeback')),
  refunded_minor INTEGER NOT NULL,
  points INTEGER NOT NULL,
  shortfall INTEGER NOT NULL DEFAULT 0,
  entry_id INTEGER REFERENCES ledger_entries(id),
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_reversals_purchase ON webhook_reversals (purchase_ref, kind);
`,
  },
  {
    id: 3,
    name: "reconciliation_chunks",
    // Chunks are user-id ranges that several instances claim with row locks; one open
    // run per date; a covering index lets the sweep sum entries without reading rows.
    sql: `
CREATE TABLE reconciliation_chunks (
  run_id INTEGER NOT NULL REFERENCES reconciliation_runs(id),
  chunk_no INTEGER NOT NULL,
  uid_after TEXT,
  uid_last TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','claimed','done')),
  claimed_by TEXT,
  claimed_at TEXT,
  users_checked INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0,
  adjustment_abs_total INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, chunk_no)
) STRICT;
CREATE INDEX reconciliation_chunks_status ON reconciliation_chunks (run_id, status, chunk_no);
CREATE UNIQUE INDEX reconciliation_runs_one_open ON reconciliation_runs (run_date) WHERE status IN ('running','finalizing');
ALTER TABLE reconciliation_runs ADD COLUMN chain_position INTEGER;
CREATE UNIQUE INDEX reconciliation_runs_chain ON reconciliation_runs (chain_position) WHERE chain_position IS NOT NULL;
ALTER TABLE reconciliation_runs ADD COLUMN heartbeat_at TEXT;
CREATE INDEX ledger_entries_uid_amount ON ledger_entries (uid, amount);
`,
  },
  {
    id: 5,
    name: "backfill_runs",
    sql: `
ALTER TABLE data_migrations ADD COLUMN max_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_migrations ADD COLUMN planned_entries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_migrations ADD COLUMN plan_sample TEXT NOT NULL DEFAULT '[]';
-- host:pid of the process running it, so a resume can tell a dead run from a live one.
ALTER TABLE data_migrations ADD COLUMN holder TEXT;
-- One run of each type at a time: a second start fails on this index, atomically.
CREATE UNIQUE INDEX data_migrations_one_running ON data_migrations (type) WHERE status = 'running';
CREATE INDEX webhook_events_type_received ON webhook_events (event_type, received_at);
`,
  },
  {
    id: 6,
    name: "ledger_guards",
    // The ledger's rules held by the schema itself, for every connection and every tool.
    sql: `
-- INSERT OR REPLACE and REPLACE INTO delete the row they collide with without firing the
-- DELETE trigger (unless that connection turned recursive_triggers on), so an entry could
-- be rewritten. Any insert whose id or idempotency key is taken is refused before SQLite
-- resolves the conflict; an upsert's DO UPDATE never gets that far either.
CREATE TRIGGER ledger_entries_no_replace BEFORE INSERT ON ledger_entries
WHEN EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM ledger_entries WHERE idempotency_key = NEW.idempotency_key)
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries is append-only: an insert may not replace an entry');
END;

-- Balances stay where they are exact as JS and JSON numbers (MAX_BALANCE_POINTS, 10^15;
-- ledger/balanceRange.ts), and an entry moves a non-zero amount of at most 10^12
-- (MAX_ENTRY_POINTS). Checked on every write; rows written before stay as they are.
CREATE TRIGGER wallets_points_in_range_insert BEFORE INSERT ON wallets
WHEN NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'wallets.points must stay within ±10^15');
END;
CREATE TRIGGER wallets_points_in_range_update BEFORE UPDATE OF points ON wallets
WHEN NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'wallets.points must stay within ±10^15');
END;
CREATE TRIGGER ledger_entries_in_range BEFORE INSERT ON ledger_entries
WHEN NEW.amount = 0 OR NEW.amount NOT BETWEEN -1000000000000 AND 1000000000000
  OR NEW.balance_after NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries: amount must be non-zero within ±10^12 and balance_after within ±10^15');
END;

-- An entry references only what its kind may reverse (entryRules.ts REVERSIBLE), of the
-- same user; a reconcile_adjustment is undone only by reverting its run.
CREATE TRIGGER ledger_entries_reference_rules BEFORE INSERT ON ledger_entries
WHEN NEW.reverses_entry_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM ledger_entries AS original
  WHERE original.id = NEW.reverses_entry_id AND original.uid = NEW.uid
    AND ((NEW.kind = 'reversal' AND original.kind IN ('purchase','spend','admin_adjustment','reinstatement'))
      OR (NEW.kind = 'reinstatement' AND original.kind = 'reversal')))
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries: this entry may not reference that entry');
END;
`,
  },
  {
    id: 7,
    name: "reconciliation_refusals_signatures_heal_claims",
    // Refused report lines carry a reason and its detail; runs count refusals, name the
    // formula of their checksum and carry an Ed25519 signature; the once-per-date claim
    // of a heal lives in one table for every policy, filled from the two places
    // (ledger keys, idempotency records) where the claims were kept before.
    sql: `
ALTER TABLE reconciliation_user_reports ADD COLUMN reason TEXT;
ALTER TABLE reconciliation_user_reports ADD COLUMN detail TEXT;
ALTER TABLE reconciliation_runs ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reconciliation_runs ADD COLUMN checksum_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reconciliation_runs ADD COLUMN signature TEXT;
ALTER TABLE reconciliation_chunks ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reconciliation_heals (
  run_date TEXT NOT NULL,
  uid TEXT NOT NULL,
  run_id INTEGER REFERENCES reconciliation_runs(id),
  action TEXT NOT NULL CHECK (action IN ('adjusted','restored')),
  entry_id INTEGER REFERENCES ledger_entries(id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_date, uid)
) STRICT;
-- Heal keys are 'reconcile:' || date || ':' || uid; the range walks the unique index.
INSERT INTO reconciliation_heals (run_date, uid, run_id, action, entry_id, created_at)
SELECT substr(idempotency_key, 11, 10), substr(idempotency_key, 22), NULL, 'adjusted', id, created_at
FROM ledger_entries
WHERE idempotency_key >= 'reconcile:' AND idempotency_key < 'reconcile;' AND kind = 'reconcile_adjustment'
ON CONFLICT DO NOTHING;
INSERT INTO reconciliation_heals (run_date, uid, run_id, action, entry_id, created_at)
SELECT substr(key, 11, 10), substr(key, 22), NULL, 'restored', NULL, created_at
FROM idempotency_records WHERE scope = 'reconcile_heal'
ON CONFLICT DO NOTHING;
`,
  },
  {
    id: 8,
    name: "raw_body_bytes",
    // Deliveries are stored as the exact bytes that were signed: a body that is not
    // UTF-8 or holds NUL is kept whole and can be verified again. A body stored as text
    // was valid UTF-8 when it came in (ingest decoded it), so its UTF-8 bytes are the
    // bytes that were signed. The column is swapped in place (add, copy, drop, rename)
    // rather than the table rebuilt, so columns and indexes other migrations add stay.
    sql: `
ALTER TABLE webhook_events ADD COLUMN raw_body_bytes BLOB NOT NULL DEFAULT x'';
UPDATE webhook_events SET raw_body_bytes = CAST(raw_body AS BLOB);
ALTER TABLE webhook_events DROP COLUMN raw_body;
ALTER TABLE webhook_events RENAME COLUMN raw_body_bytes TO raw_body;
`,
  },
  {
    id: 9,
    name: "backfill_leases",
    sql: `
-- When the run's holder last said it was alive; a run silent past its lease can be taken over.
ALTER TABLE data_migrations ADD COLUMN heartbeat_at TEXT;
-- Why the run itself ended failed (abandoned, run_failed, plan_changed), apart from event errors.
ALTER TABLE data_migrations ADD COLUMN failure_reason TEXT;
ALTER TABLE data_migrations ADD COLUMN failure_detail TEXT;
`,
  },
  {
    id: 10,
    name: "won_chargebacks_recorded",
    // A won chargeback is recorded like a refund or a chargeback, naming the chargeback it
    // closes, so the points a purchase keeps can be computed from what was recorded.
    // SQLite cannot change a CHECK in place: the table is rebuilt with the same columns.
    sql: `
CREATE TABLE webhook_reversals_v10 (
  reversal_key TEXT PRIMARY KEY,
  purchase_ref TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('refund','chargeback','chargeback_won')),
  refunded_minor INTEGER NOT NULL,
  points INTEGER NOT NULL,
  shortfall INTEGER NOT NULL DEFAULT 0,
  entry_id INTEGER REFERENCES ledger_entries(id),
  created_at TEXT NOT NULL,
  chargeback_key TEXT,
  CHECK ((kind = 'chargeback_won') = (chargeback_key IS NOT NULL))
) STRICT;
INSERT INTO webhook_reversals_v10 (reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at)
SELECT reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at FROM webhook_reversals;
DROP TABLE webhook_reversals;
ALTER TABLE webhook_reversals_v10 RENAME TO webhook_reversals;
CREATE INDEX webhook_reversals_purchase ON webhook_reversals (purchase_ref, kind);
-- Won chargebacks applied before this migration left only their reinstatement entry:
-- record them, so the chargeback they closed does not count as open again; a won
-- chargeback stopped what its chargeback wrote off from being owed.
INSERT INTO webhook_reversals (reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at, chargeback_key)
SELECT e.idempotency_key, r.purchase_ref, 'chargeback_won', 0, -e.amount - r.shortfall, -r.shortfall, e.id, e.created_at, r.reversal_key
FROM ledger_entries e JOIN webhook_reversals r ON r.entry_id = e.reverses_entry_id AND r.kind = 'chargeback'
WHERE e.kind = 'reinstatement' AND e.source = 'webhook';
`,
  },
];

export const sql = `
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
`;

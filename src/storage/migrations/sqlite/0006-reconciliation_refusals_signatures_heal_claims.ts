/**
 * Refused report lines carry a reason and its detail; runs count refusals, name the
 * formula of their checksum and carry an Ed25519 signature; the once-per-date claim
 * of a heal lives in one table for every policy, filled from the two places
 * (ledger keys, idempotency records) where the claims were kept before.
 */
export const sql = `
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
`;

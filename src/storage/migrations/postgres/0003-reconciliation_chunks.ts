/**
 * Chunks are user-id ranges that several instances claim with row locks; one open
 * run per date; a covering index lets the sweep sum entries without reading rows.
 */
export const sql = `
CREATE TABLE reconciliation_chunks (
  run_id BIGINT NOT NULL REFERENCES reconciliation_runs(id),
  chunk_no INTEGER NOT NULL,
  uid_after TEXT,
  uid_last TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','claimed','done')),
  claimed_by TEXT,
  claimed_at TIMESTAMPTZ,
  users_checked BIGINT NOT NULL DEFAULT 0,
  violations BIGINT NOT NULL DEFAULT 0,
  adjustment_abs_total BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, chunk_no)
);
CREATE INDEX reconciliation_chunks_status ON reconciliation_chunks (run_id, status, chunk_no);
CREATE UNIQUE INDEX reconciliation_runs_one_open ON reconciliation_runs (run_date) WHERE status IN ('running','finalizing');
ALTER TABLE reconciliation_runs ADD COLUMN chain_position BIGINT;
CREATE UNIQUE INDEX reconciliation_runs_chain ON reconciliation_runs (chain_position) WHERE chain_position IS NOT NULL;
ALTER TABLE reconciliation_runs ADD COLUMN heartbeat_at TIMESTAMPTZ;
CREATE INDEX ledger_entries_uid_amount ON ledger_entries (uid) INCLUDE (amount);
`;

/**
 * Report archives: each verified archive file of old reconciliation runs (their rows
 * and lines), recorded before anything may be pruned. The newest pruned archive keeps
 * the chain's anchor in the database: the position, date, checksum and signature of
 * the last run it holds, which the first remaining run links to.
 *
 * A partial index on the drifted lines of each run: the top deltas (`/metrics`, the
 * admin page) read a run's few drifted users instead of all its lines, one per user.
 */
export const sql = `
CREATE TABLE report_archives (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  before_date TEXT NOT NULL,
  first_position INTEGER NOT NULL,
  last_position INTEGER NOT NULL,
  last_date TEXT NOT NULL,
  last_checksum TEXT NOT NULL,
  last_signature TEXT,
  runs_digest TEXT NOT NULL,
  runs INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  file_path TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  pruned_at TEXT,
  CHECK (first_position >= 1 AND last_position >= first_position)
) STRICT;
CREATE INDEX report_archives_last_position ON report_archives (last_position);
CREATE INDEX reconciliation_user_reports_drifted ON reconciliation_user_reports (run_id) WHERE delta <> 0;
`;

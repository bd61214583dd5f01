/**
 * Provider findings in the report chain (issue 15): the run that is chained next commits
 * to every finding not yet committed, as it saw it (`report_run_id`, `report_status`,
 * `report_uid`, and the finding's hash `report_hash`); the run keeps their count and the
 * digest of their hashes, which its checksum (version 3) covers. A finding closed later
 * says why (`close_reason`) and is audited; what the run committed to does not move.
 */
export const sql = `
ALTER TABLE provider_findings ADD COLUMN report_run_id INTEGER;
ALTER TABLE provider_findings ADD COLUMN report_status TEXT;
ALTER TABLE provider_findings ADD COLUMN report_uid TEXT;
ALTER TABLE provider_findings ADD COLUMN report_hash TEXT;
ALTER TABLE provider_findings ADD COLUMN close_reason TEXT;
CREATE INDEX provider_findings_report_run ON provider_findings (report_run_id, id);
CREATE INDEX provider_findings_uncommitted ON provider_findings (id) WHERE report_run_id IS NULL;
CREATE INDEX provider_findings_open ON provider_findings (provider, status) WHERE status = 'open';
ALTER TABLE reconciliation_runs ADD COLUMN findings_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reconciliation_runs ADD COLUMN findings_digest TEXT;
`;

export const sql = `
ALTER TABLE data_migrations ADD COLUMN max_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_migrations ADD COLUMN planned_entries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_migrations ADD COLUMN plan_sample TEXT NOT NULL DEFAULT '[]';
-- host:pid of the process running it, so a resume can tell a dead run from a live one.
ALTER TABLE data_migrations ADD COLUMN holder TEXT;
-- One run of each type at a time: a second start fails on this index, atomically.
CREATE UNIQUE INDEX data_migrations_one_running ON data_migrations (type) WHERE status = 'running';
CREATE INDEX webhook_events_type_received ON webhook_events (event_type, received_at);
`;

export const sql = `
-- When the run's holder last said it was alive; a run silent past its lease can be taken over.
ALTER TABLE data_migrations ADD COLUMN heartbeat_at TIMESTAMPTZ;
-- Why the run itself ended failed (abandoned, run_failed, plan_changed), apart from event errors.
ALTER TABLE data_migrations ADD COLUMN failure_reason TEXT;
ALTER TABLE data_migrations ADD COLUMN failure_detail TEXT;
`;

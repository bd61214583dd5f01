/**
 * Two things every write paid for and no rule needs (docs/decisions/reconciliation-performance.md,
 * "Migration 13"):
 *
 * - Report lines lose their foreign key to their run. The per-row check was 20–30 ms of a
 *   chunk's 80–90 ms observing statement. Lines are written only by a process that holds a
 *   claimed chunk of the run (the chunk row keeps its own foreign key to the run), runs are
 *   never deleted but by `reports prune`, which deletes a run's lines in the same
 *   transaction before the run, and only runs that finished and were archived.
 * - `webhook_events (received_at)` goes: every query that filters on `received_at` also
 *   filters on `status` or `event_type` and uses `(status, received_at)` or
 *   `(event_type, received_at)`, or walks the primary key; the index only cost each stored
 *   delivery one more B-tree insert.
 */
export const sql = `
ALTER TABLE reconciliation_user_reports DROP CONSTRAINT reconciliation_user_reports_run_id_fkey;
DROP INDEX webhook_events_received;
`;

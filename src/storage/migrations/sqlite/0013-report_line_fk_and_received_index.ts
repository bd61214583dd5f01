/**
 * `webhook_events (received_at)` goes: every query that filters on `received_at` also
 * filters on `status` or `event_type` and uses `(status, received_at)` or
 * `(event_type, received_at)`, or walks the primary key; the index only cost each stored
 * delivery one more B-tree insert.
 *
 * Report lines keep their foreign key to their run here, unlike PostgreSQL: SQLite can
 * drop a foreign key only by rebuilding the table (every line of every kept run), and its
 * sweep was not measured to pay for the check (docs/decisions/reconciliation-performance.md,
 * "Migration 13").
 */
export const sql = `
DROP INDEX webhook_events_received;
`;

/**
 * A won chargeback is recorded like a refund or a chargeback, naming the chargeback it
 * closes, so the points a purchase keeps can be computed from what was recorded.
 * SQLite cannot change a CHECK in place: the table is rebuilt with the same columns.
 */
export const sql = `
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
`;

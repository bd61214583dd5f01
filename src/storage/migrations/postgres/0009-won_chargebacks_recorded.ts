/**
 * A won chargeback is recorded like a refund or a chargeback, naming the chargeback it
 * closes, so the points a purchase keeps can be computed from what was recorded.
 */
export const sql = `
ALTER TABLE webhook_reversals DROP CONSTRAINT webhook_reversals_kind_check;
ALTER TABLE webhook_reversals ADD CONSTRAINT webhook_reversals_kind_check CHECK (kind IN ('refund','chargeback','chargeback_won'));
ALTER TABLE webhook_reversals ADD COLUMN chargeback_key TEXT;
ALTER TABLE webhook_reversals ADD CONSTRAINT webhook_reversals_won_names_chargeback CHECK ((kind = 'chargeback_won') = (chargeback_key IS NOT NULL));
-- Won chargebacks applied before this migration left only their reinstatement entry:
-- record them, so the chargeback they closed does not count as open again; a won
-- chargeback stopped what its chargeback wrote off from being owed.
INSERT INTO webhook_reversals (reversal_key, purchase_ref, kind, refunded_minor, points, shortfall, entry_id, created_at, chargeback_key)
SELECT e.idempotency_key, r.purchase_ref, 'chargeback_won', 0, -e.amount - r.shortfall, -r.shortfall, e.id, e.created_at, r.reversal_key
FROM ledger_entries e JOIN webhook_reversals r ON r.entry_id = e.reverses_entry_id AND r.kind = 'chargeback'
WHERE e.kind = 'reinstatement' AND e.source = 'webhook';
`;

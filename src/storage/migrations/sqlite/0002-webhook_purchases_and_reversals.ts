export const sql = `
CREATE TABLE webhook_purchases (
  purchase_ref TEXT PRIMARY KEY,
  entry_id INTEGER NOT NULL REFERENCES ledger_entries(id),
  uid TEXT NOT NULL,
  points INTEGER NOT NULL,
  paid_minor INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_purchases_entry ON webhook_purchases (entry_id);

CREATE TABLE webhook_reversals (
  reversal_key TEXT PRIMARY KEY,
  purchase_ref TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('refund','chargeback')),
  refunded_minor INTEGER NOT NULL,
  points INTEGER NOT NULL,
  shortfall INTEGER NOT NULL DEFAULT 0,
  entry_id INTEGER REFERENCES ledger_entries(id),
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_reversals_purchase ON webhook_reversals (purchase_ref, kind);
`;

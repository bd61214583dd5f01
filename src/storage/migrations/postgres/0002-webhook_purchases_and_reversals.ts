export const sql = `
CREATE TABLE webhook_purchases (
  purchase_ref TEXT PRIMARY KEY,
  entry_id BIGINT NOT NULL REFERENCES ledger_entries(id),
  uid TEXT NOT NULL,
  points BIGINT NOT NULL,
  paid_minor BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_purchases_entry ON webhook_purchases (entry_id);

CREATE TABLE webhook_reversals (
  reversal_key TEXT PRIMARY KEY,
  purchase_ref TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('refund','chargeback')),
  refunded_minor BIGINT NOT NULL,
  points BIGINT NOT NULL,
  shortfall BIGINT NOT NULL DEFAULT 0,
  entry_id BIGINT REFERENCES ledger_entries(id),
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_reversals_purchase ON webhook_reversals (purchase_ref, kind);
`;

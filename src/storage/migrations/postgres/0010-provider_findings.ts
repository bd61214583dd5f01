/**
 * Provider sync (issue 15): each difference between a provider's own records and what
 * Reckon holds is one finding, found once per (provider, kind, subject) however many
 * runs see it. A run records how many findings it saw and a bounded list of them, so a
 * dry run's record alone lists what it found.
 */
export const sql = `
CREATE TABLE provider_findings (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('missing_delivery','paid_not_credited','refund_not_reversed','chargeback_not_reversed','chargeback_won_not_restored','amount_mismatch','credited_not_paid','user_unknown','malformed_record')),
  subject TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open','repaired','resolved','reported')),
  date TEXT NOT NULL,
  uid TEXT,
  amount_minor BIGINT,
  detail TEXT NOT NULL,
  found_by TEXT NOT NULL,
  found_at TIMESTAMPTZ NOT NULL,
  closed_by TEXT,
  closed_at TIMESTAMPTZ,
  UNIQUE (provider, kind, subject)
);
CREATE INDEX provider_findings_date_status ON provider_findings (date, status);
ALTER TABLE data_migrations ADD COLUMN findings_found BIGINT NOT NULL DEFAULT 0;
ALTER TABLE data_migrations ADD COLUMN findings_sample TEXT NOT NULL DEFAULT '[]';
`;

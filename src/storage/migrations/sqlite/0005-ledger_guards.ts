/**
 * The ledger's rules held by the schema itself, for every connection and every tool.
 */
export const sql = `
-- INSERT OR REPLACE and REPLACE INTO delete the row they collide with without firing the
-- DELETE trigger (unless that connection turned recursive_triggers on), so an entry could
-- be rewritten. Any insert whose id or idempotency key is taken is refused before SQLite
-- resolves the conflict; an upsert's DO UPDATE never gets that far either.
CREATE TRIGGER ledger_entries_no_replace BEFORE INSERT ON ledger_entries
WHEN EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM ledger_entries WHERE idempotency_key = NEW.idempotency_key)
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries is append-only: an insert may not replace an entry');
END;

-- Balances stay where they are exact as JS and JSON numbers (MAX_BALANCE_POINTS, 10^15;
-- ledger/balanceRange.ts), and an entry moves a non-zero amount of at most 10^12
-- (MAX_ENTRY_POINTS). Checked on every write; rows written before stay as they are.
CREATE TRIGGER wallets_points_in_range_insert BEFORE INSERT ON wallets
WHEN NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'wallets.points must stay within ±10^15');
END;
CREATE TRIGGER wallets_points_in_range_update BEFORE UPDATE OF points ON wallets
WHEN NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'wallets.points must stay within ±10^15');
END;
CREATE TRIGGER ledger_entries_in_range BEFORE INSERT ON ledger_entries
WHEN NEW.amount = 0 OR NEW.amount NOT BETWEEN -1000000000000 AND 1000000000000
  OR NEW.balance_after NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries: amount must be non-zero within ±10^12 and balance_after within ±10^15');
END;

-- An entry references only what its kind may reverse (entryRules.ts REVERSIBLE), of the
-- same user; a reconcile_adjustment is undone only by reverting its run.
CREATE TRIGGER ledger_entries_reference_rules BEFORE INSERT ON ledger_entries
WHEN NEW.reverses_entry_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM ledger_entries AS original
  WHERE original.id = NEW.reverses_entry_id AND original.uid = NEW.uid
    AND ((NEW.kind = 'reversal' AND original.kind IN ('purchase','spend','admin_adjustment','reinstatement'))
      OR (NEW.kind = 'reinstatement' AND original.kind = 'reversal')))
BEGIN
  SELECT RAISE(ABORT, 'ledger_entries: this entry may not reference that entry');
END;
`;

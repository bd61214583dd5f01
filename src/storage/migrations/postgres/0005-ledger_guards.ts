/**
 * The ledger's rules held by the schema itself, for every connection and every tool.
 */
export const sql = `
-- Balances stay where they are exact as JS and JSON numbers (MAX_BALANCE_POINTS, 10^15;
-- ledger/balanceRange.ts), and an entry moves a non-zero amount of at most 10^12
-- (MAX_ENTRY_POINTS). NOT VALID: checked on every write, while rows written before stay
-- as they are (reconciliation reports them) instead of failing the migration.
ALTER TABLE wallets ADD CONSTRAINT wallets_points_in_range
  CHECK (points BETWEEN -1000000000000000 AND 1000000000000000) NOT VALID;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_amounts_in_range
  CHECK (amount <> 0 AND amount BETWEEN -1000000000000 AND 1000000000000
    AND balance_after BETWEEN -1000000000000000 AND 1000000000000000) NOT VALID;

-- An entry references only what its kind may reverse (entryRules.ts REVERSIBLE), of the
-- same user; a reconcile_adjustment is undone only by reverting its run.
CREATE FUNCTION reckon_check_entry_reference() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM ledger_entries AS original
    WHERE original.id = NEW.reverses_entry_id AND original.uid = NEW.uid
      AND ((NEW.kind = 'reversal' AND original.kind IN ('purchase','spend','admin_adjustment','reinstatement'))
        OR (NEW.kind = 'reinstatement' AND original.kind = 'reversal'))
  ) THEN
    RAISE EXCEPTION 'ledger_entries: a % may not reference entry %', NEW.kind, NEW.reverses_entry_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_entries_reference_rules BEFORE INSERT ON ledger_entries
  FOR EACH ROW WHEN (NEW.reverses_entry_id IS NOT NULL) EXECUTE FUNCTION reckon_check_entry_reference();
`;

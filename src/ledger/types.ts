/**
 * The ledger's nouns. An *entry* is one immutable movement of points for one user;
 * a *wallet* is that user's balance, which moves only in the transaction that writes
 * the entry explaining it. Amounts are signed integers of points.
 */
import type { Selectable } from "kysely";
import type { EntryKind, LedgerEntriesTable, WalletsTable } from "../storage/schema.js";

export type { EntryKind };

export interface Entry {
  id: number;
  uid: string;
  amount: number;
  kind: EntryKind;
  idempotencyKey: string;
  reversesEntryId: number | null;
  balanceAfter: number;
  source: string;
  sourceRef: string | null;
  reason: string | null;
  createdAt: string;
}

export interface Wallet {
  uid: string;
  points: number;
  version: number;
  negativeFlagged: boolean;
  updatedAt: string;
}

export function toEntry(row: Selectable<LedgerEntriesTable>): Entry {
  return {
    id: row.id,
    uid: row.uid,
    amount: row.amount,
    kind: row.kind,
    idempotencyKey: row.idempotency_key,
    reversesEntryId: row.reverses_entry_id,
    balanceAfter: row.balance_after,
    source: row.source,
    sourceRef: row.source_ref,
    reason: row.reason,
    createdAt: row.created_at,
  };
}

export function toWallet(row: Selectable<WalletsTable>): Wallet {
  return {
    uid: row.uid,
    points: row.points,
    version: row.version,
    negativeFlagged: row.negative_flagged === 1,
    updatedAt: row.updated_at,
  };
}

/** The largest size of one entry: far inside 2^53, so sums of many stay exact. */
export const MAX_ENTRY_POINTS = 1_000_000_000_000;

/**
 * The words of a legacy import. A *legacy export* is a JSON-lines file from the store
 * Reckon replaces: per user, one *wallet line* (the balance the old system shows)
 * followed by that user's *entry lines* (its ledger history). A *group* is one user's
 * lines as they sit together in the file. A *problem* is one reason a line, and so its
 * user, cannot be imported, with a stable code.
 */

export type LegacyRecord =
  | { type: "wallet"; uid: string; points: number }
  | { type: "entry"; uid: string; id: string; amount: number; at: string; note: string | null };

export type ProblemCode =
  | "not_utf8"
  | "line_too_long"
  | "not_json"
  | "not_an_object"
  | "unknown_type"
  | "unknown_field"
  | "missing_uid"
  | "invalid_uid"
  | "invalid_points"
  | "invalid_amount"
  | "invalid_id"
  | "invalid_time"
  | "invalid_note"
  | "nul_character"
  | "not_a_document"
  | "no_wallet_line"
  | "user_repeated"
  | "duplicate_entry_id"
  | "entry_changed"
  | "balance_out_of_range";

export interface LineProblem {
  /** 1-based line number in the file. */
  line: number;
  code: ProblemCode;
  problem: string;
}

/** One line read: a record, or a problem and, when it could still be read, whose line it is. */
export type ParsedLine = { ok: true; record: LegacyRecord } | { ok: false; uid: string | null; code: ProblemCode; problem: string };

export type ImportFormat = "reckon" | "firestore";

/** An entry of a group, with the line it came from. */
export interface GroupEntry {
  line: number;
  id: string;
  amount: number;
  at: string;
  note: string | null;
}

/** One user's lines, gathered while reading. */
export interface UserGroup {
  uid: string;
  /** The line of the wallet, or of the user's first line when it has no wallet line. */
  line: number;
  /** The balance the export shows; null when the user has no wallet line. */
  points: number | null;
  entries: GroupEntry[];
  problems: LineProblem[];
}

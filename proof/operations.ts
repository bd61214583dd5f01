/**
 * The operations a proof run sends, and what came back. The workload makes them from
 * the seed; the driver sends them and records each one's definitive answer; the model
 * and the checker read only these records and the database.
 */
export type Provider = "paynow" | "stripe";

export interface DeliveryOp {
  kind: "delivery";
  id: number;
  provider: Provider;
  eventId: string;
  /** The exact bytes sent; duplicates send the same bytes again. */
  body: string;
  /** A redelivery of an earlier operation's event (same event id and bytes). */
  duplicateOf?: number;
  /** Resent with the very headers of the original's last attempt (a provider retry), not re-signed. */
  sameSignature?: boolean;
}

export interface SpendOp {
  kind: "spend";
  id: number;
  uid: string;
  key: string;
  amount: number;
  /** The operation that first used this key; a replay waits for its answer. */
  firstOf?: number;
}

export interface AdjustOp {
  kind: "adjust";
  id: number;
  uid: string;
  key: string;
  amount: number;
}

export interface ReverseAdjustmentOp {
  kind: "reverse_adjustment";
  id: number;
  /** The adjustment to reverse: its entry id comes from that operation's answer. */
  adjustOp: number;
  key: string;
}

/** An out-of-band edit of a wallet row: the bug reconciliation exists for. */
export interface DriftOp {
  kind: "drift";
  id: number;
  uid: string;
  points: number;
}

export type Operation = DeliveryOp | SpendOp | AdjustOp | ReverseAdjustmentOp | DriftOp;

/** The definitive answer of one operation (after retries), or why there is none. */
export interface Answer {
  status: number;
  /** The parsed JSON body of the answer. */
  body: unknown;
  attempts: number;
  /** From the first attempt to the definitive answer. */
  latencyMs: number;
  answeredAtMs: number;
  /** Drift only: whether the row existed and was changed. */
  applied?: boolean;
}

/** One HTTP answer of any attempt, for the 5xx and failover-window figures. */
export interface AttemptRecord {
  atMs: number;
  status: number;
  /** 0 when the attempt got no status at all (connection refused, reset, timeout). */
  instance: number;
  well: boolean;
  /** Why there was no status (ECONNREFUSED, ECONNRESET, TIMEOUT). */
  failure?: string;
}

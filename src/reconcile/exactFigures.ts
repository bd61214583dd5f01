import type { Observation } from "./planHeal.js";

/**
 * Points a report handles as JS numbers: every integer up to 2^53 - 1 in magnitude is
 * exact there. A wallet, a ledger sum or a drift past it is never turned into a
 * number; it is read as decimal text and compared as a BigInt.
 */
export const EXACT_POINTS_MAX = Number.MAX_SAFE_INTEGER;

/** The same bound as SQL text, for statements that must keep such users apart. */
export const EXACT_POINTS_MAX_SQL = String(EXACT_POINTS_MAX);

/** One user's figures as the database gave them: decimal text, never rounded. */
export interface RawFigures {
  uid: string;
  walletPoints: string;
  /** Null when the engine could not sum the entries in 64 bits (SQLite's integer overflow). */
  ledgerSum: string | null;
  walletVersion: number;
  ledgerCount: number;
}

export type ExactReading =
  /** Wallet, sum and drift are exact numbers: reconciliation can decide and heal. */
  | { inRange: true; observation: Observation }
  /** Something is past the exact range: the report says so in words, with the exact figures. */
  | { inRange: false; uid: string; walletVersion: number; ledgerCount: number; detail: string };

const LIMIT = BigInt(EXACT_POINTS_MAX);

function inside(value: bigint): boolean {
  return value >= -LIMIT && value <= LIMIT;
}

/** Decides, from exact text, whether a user's figures can be handled as numbers. */
export function readExactFigures(raw: RawFigures): ExactReading {
  const outside = (what: string): ExactReading => ({
    inRange: false,
    uid: raw.uid,
    walletVersion: raw.walletVersion,
    ledgerCount: raw.ledgerCount,
    detail: `${what}: outside the exact range ±${EXACT_POINTS_MAX}; not healed`,
  });
  const wallet = BigInt(raw.walletPoints);
  if (raw.ledgerSum === null) return outside(`wallet ${wallet}, ledger sum beyond 64 bits (${raw.ledgerCount} entries)`);
  const sum = BigInt(raw.ledgerSum);
  const drift = wallet - sum;
  if (!inside(wallet) || !inside(sum) || !inside(drift)) {
    return outside(`wallet ${wallet}, ledger sum ${sum} (${raw.ledgerCount} entries), drift ${drift}`);
  }
  return {
    inRange: true,
    observation: {
      uid: raw.uid,
      walletPoints: Number(wallet),
      walletVersion: raw.walletVersion,
      ledgerSum: Number(sum),
      ledgerCount: raw.ledgerCount,
    },
  };
}

import { unreachable } from "../unreachable.js";
import type { PlainEntryOutcome } from "./postEntry.js";
import type { Entry, Wallet } from "./types.js";

/** What a request that posts one entry under the caller's Idempotency-Key answers (a spend, an adjustment, a reversal). */
export type KeyedEntryOutcome =
  | { outcome: "posted"; entry: Entry; wallet: Wallet }
  /** 409: the wallet holds fewer points than the debit. */
  | { outcome: "insufficient_points"; available: number }
  /** 409: the wallet or the user's ledger sum would leave the exact range (`MAX_BALANCE_POINTS`). */
  | { outcome: "out_of_range"; limit: number }
  /** The ledger already holds this key's entry with other content (409 idempotency_key_reused). */
  | { outcome: "key_reused" };

/**
 * The key was claimed first (`runIdempotent`), so a `duplicate` or `conflict` here means
 * the ledger holds the key's entry without its idempotency record: the entry is the answer.
 */
export function toKeyedOutcome(result: PlainEntryOutcome): KeyedEntryOutcome {
  switch (result.outcome) {
    case "posted":
    case "duplicate":
      return { outcome: "posted", entry: result.entry, wallet: result.wallet };
    case "insufficient_points":
      return { outcome: "insufficient_points", available: result.available };
    case "conflict":
      return { outcome: "key_reused" };
    case "out_of_range":
      return { outcome: "out_of_range", limit: result.limit };
  }
  return unreachable(result, "keyed entry outcome");
}

import type { Selectable } from "kysely";
import type { LedgerEntriesTable, WalletsTable } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import {
  assertEntryShape,
  checkReversal,
  decideBelowZero,
  entryContentHash,
  movesWallet,
  type BelowZeroPolicy,
} from "./entryRules.js";
import { decideBalanceRange } from "./balanceRange.js";
import { lockWallets } from "./lockWallets.js";
import { readLedgerSums } from "./readLedgerSums.js";
import { readUnreversedPoints } from "./readUnreversedPoints.js";
import { toEntry, toWallet, type Entry, type EntryKind, type Wallet } from "./types.js";

export interface PostEntryInput {
  uid: string;
  kind: EntryKind;
  /** Signed points: positive credits the wallet, negative debits it. */
  amount: number;
  /** Unique across the whole ledger; the same key with the same content is a duplicate. */
  idempotencyKey: string;
  reversesEntryId?: number | null;
  source: string;
  sourceRef?: string | null;
  reason?: string | null;
  /** Defaults by kind (`DEFAULT_BELOW_ZERO`). */
  belowZero?: BelowZeroPolicy;
  /** Post only if the wallet still has this version (a heal decided on an earlier read). */
  expectedWalletVersion?: number;
  now: Date;
}

export type PostEntryOutcome =
  /** 201: the entry is written and the wallet moved. `shortfall` > 0 only under `clamp`. */
  | { outcome: "posted"; entry: Entry; wallet: Wallet; shortfall: number }
  /** 200: this key was posted before with the same content; nothing changed. */
  | { outcome: "duplicate"; entry: Entry; wallet: Wallet }
  /** 409: this key was posted before with different content. */
  | { outcome: "conflict"; existing: Entry }
  /** 409: the wallet holds fewer points than the debit. */
  | { outcome: "insufficient_points"; available: number }
  /** 409: the wallet or the user's ledger sum would end beyond ±`limit` (`MAX_BALANCE_POINTS`). */
  | { outcome: "out_of_range"; limit: number }
  /** 404: the referenced entry does not exist. */
  | { outcome: "original_not_found"; reversesEntryId: number }
  /** 409: the reference is not allowed (other user, wrong kind or sign, more than what remains). */
  | { outcome: "invalid_reversal"; reason: "wrong_user" | "not_reversible" | "wrong_sign" | "exceeds_original"; remaining: number }
  /** 409: the wallet changed since the caller read it. */
  | { outcome: "stale_wallet"; wallet: Wallet | null };

/** The outcomes an entry can have that neither references another entry nor expects a wallet version. */
export type PlainEntryOutcome = Exclude<PostEntryOutcome, { outcome: "original_not_found" | "invalid_reversal" | "stale_wallet" }>;

/** The outcomes an entry can have that expects no wallet version. */
export type UnversionedEntryOutcome = Exclude<PostEntryOutcome, { outcome: "stale_wallet" }>;

/**
 * The only writer of entries and wallets. Writes one entry and moves its wallet in
 * `trx`. The wallet row is locked first, so every post for one user is serialised
 * and the idempotency check below sees all committed entries of that user.
 *
 * A `reconcile_adjustment` does not move the wallet: it records, after the fact,
 * a change the wallet already shows, so that the ledger explains the balance.
 */
export function postEntry(
  trx: Trx,
  input: PostEntryInput & { reversesEntryId?: null; expectedWalletVersion?: undefined },
): Promise<PlainEntryOutcome>;
export function postEntry(trx: Trx, input: PostEntryInput & { expectedWalletVersion?: undefined }): Promise<UnversionedEntryOutcome>;
export function postEntry(trx: Trx, input: PostEntryInput): Promise<PostEntryOutcome>;
export async function postEntry(trx: Trx, input: PostEntryInput): Promise<PostEntryOutcome> {
  const reversesEntryId = input.reversesEntryId ?? null;
  assertEntryShape(input.kind, input.amount, reversesEntryId);
  const contentHash = entryContentHash(input.uid, input.kind, input.amount, reversesEntryId);

  let wallet = await lockWallet(trx, input.uid);
  const existing = await trx
    .selectFrom("ledger_entries")
    .selectAll()
    .where("idempotency_key", "=", input.idempotencyKey)
    .executeTakeFirst();
  if (existing) return answerExisting(trx, existing, contentHash);

  if (input.expectedWalletVersion !== undefined && wallet?.version !== input.expectedWalletVersion) {
    return { outcome: "stale_wallet", wallet: wallet ? toWallet(wallet) : null };
  }

  if (reversesEntryId !== null) {
    const refused = await checkAgainstOriginal(trx, input, reversesEntryId);
    if (refused) return refused;
  }

  const moves = movesWallet(input.kind);
  const decided = decideBelowZero(input.kind, input.amount, wallet?.points ?? 0, input.belowZero);
  if (decided.refused) return { outcome: "insufficient_points", available: decided.available };
  const { amount, shortfall } = decided;
  const ledgerSum = (await readLedgerSums(trx, [input.uid])).get(input.uid) ?? 0n;
  const range = decideBalanceRange(amount, moves, wallet?.points ?? 0, ledgerSum);
  if (range.refused) return { outcome: "out_of_range", limit: range.limit };

  const now = input.now.toISOString();
  if (!wallet) {
    wallet = await createWallet(trx, input.uid, now);
  }
  const balanceAfter = moves ? wallet.points + amount : wallet.points;
  if (moves) {
    await trx
      .updateTable("wallets")
      .set((eb) => ({
        points: balanceAfter,
        version: eb("version", "+", 1),
        updated_at: now,
        negative_flagged: balanceAfter < 0 ? 1 : eb.ref("negative_flagged"),
      }))
      .where("uid", "=", input.uid)
      .execute();
  }
  const row = await trx
    .insertInto("ledger_entries")
    .values({
      uid: input.uid,
      amount,
      kind: input.kind,
      idempotency_key: input.idempotencyKey,
      reverses_entry_id: reversesEntryId,
      balance_after: balanceAfter,
      source: input.source,
      source_ref: input.sourceRef ?? null,
      reason: input.reason ?? null,
      content_hash: contentHash,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const moved: Wallet = {
    uid: input.uid,
    points: balanceAfter,
    version: moves ? wallet.version + 1 : wallet.version,
    negativeFlagged: wallet.negative_flagged === 1 || balanceAfter < 0,
    updatedAt: moves ? now : wallet.updated_at,
  };
  return { outcome: "posted", entry: toEntry(row), wallet: moved, shortfall };
}

function lockWallet(trx: Trx, uid: string): Promise<Selectable<WalletsTable> | undefined> {
  return lockWallets(trx, [uid]).selectAll().executeTakeFirst();
}

/**
 * Inserts an empty wallet, or takes the one a concurrent writer just created.
 * Either way the row comes back locked.
 */
async function createWallet(trx: Trx, uid: string, now: string): Promise<Selectable<WalletsTable>> {
  await trx
    .insertInto("wallets")
    .values({ uid, points: 0, version: 0, created_at: now, updated_at: now })
    .onConflict((conflict) => conflict.column("uid").doNothing())
    .execute();
  const wallet = await lockWallet(trx, uid);
  if (!wallet) throw new Error(`wallet ${uid} vanished after insert`);
  return wallet;
}

async function answerExisting(
  trx: Trx,
  existing: Selectable<LedgerEntriesTable>,
  contentHash: string,
): Promise<PostEntryOutcome> {
  if (existing.content_hash !== contentHash) return { outcome: "conflict", existing: toEntry(existing) };
  const wallet = await trx.selectFrom("wallets").selectAll().where("uid", "=", existing.uid).executeTakeFirstOrThrow();
  return { outcome: "duplicate", entry: toEntry(existing), wallet: toWallet(wallet) };
}

async function checkAgainstOriginal(
  trx: Trx,
  input: PostEntryInput,
  reversesEntryId: number,
): Promise<PostEntryOutcome | undefined> {
  const original = await trx
    .selectFrom("ledger_entries")
    .selectAll()
    .where("id", "=", reversesEntryId)
    .executeTakeFirst();
  if (!original) return { outcome: "original_not_found", reversesEntryId };
  const remaining = await readUnreversedPoints(trx, original);
  const check = checkReversal(input.kind, input.uid, input.amount, toEntry(original), remaining);
  if (check.ok) return undefined;
  return { outcome: "invalid_reversal", reason: check.reason, remaining: check.remaining };
}

import { sql, type CompiledQuery, type QueryResult, type Selectable } from "kysely";
import { engineOf, type LedgerEntryRow } from "../storage/EngineAdapter.js";
import type { LedgerEntriesTable, WalletsTable } from "../storage/schema.js";
import { statementChunks, valuesTable } from "../storage/setBased.js";
import { ConcurrentWriteError, type Trx } from "../storage/withTransaction.js";
import { decideBalanceRange } from "./balanceRange.js";
import { assertEntryShape, decideBelowZero, entryContentHash, movesWallet } from "./entryRules.js";
import { lockWallets } from "./lockWallets.js";
import type { PostEntryInput, PostEntryOutcome } from "./postEntry.js";
import { ledgerSumStatements, ledgerSumsOf } from "./readLedgerSums.js";
import { toEntry, toWallet, type Entry, type Wallet } from "./types.js";
import { unreachable } from "../unreachable.js";

/** An entry of a batch: what `postEntry` takes, for entries that reference no other entry. */
export type BatchEntryInput = Omit<PostEntryInput, "reversesEntryId" | "expectedWalletVersion">;

export type BatchEntryOutcome = Extract<PostEntryOutcome, { outcome: "posted" | "duplicate" | "conflict" | "insufficient_points" | "out_of_range" }>;

/** A wallet as the batch has moved it so far. */
interface WalletState {
  uid: string;
  points: number;
  version: number;
  negativeFlagged: boolean;
  /** The exact sum of the user's entries, including the batch's so far. */
  ledgerSum: bigint;
  createdAt: string;
  updatedAt: string;
  /** Not in the database before this batch. */
  created: boolean;
  moved: boolean;
}

/** An entry the batch will insert; `id` is filled in once it is. */
interface PendingEntry {
  values: LedgerEntryRow;
  id?: number;
}

type Known = { stored: Selectable<LedgerEntriesTable> } | { pending: PendingEntry };

type Decision =
  | { outcome: "posted"; pending: PendingEntry; wallet: Wallet; shortfall: number }
  | { outcome: "duplicate"; known: Known; wallet: Wallet }
  | { outcome: "conflict"; known: Known }
  | { outcome: "insufficient_points"; available: number }
  | { outcome: "out_of_range"; limit: number };

/**
 * Posts many entries in one go, with exactly the outcome `postEntry` would give each
 * of them posted one after another in this order (a property test holds the two
 * together). It locks every wallet involved at once, in uid order, reads every key at
 * once, decides each entry in memory, and writes the wallets and entries with a few
 * set-based statements: the cost of a batch no longer grows by one round trip per
 * statement per entry. Entries that reference another entry, or that must find a
 * wallet at a version, go through `postEntry`.
 */
export async function postEntries(trx: Trx, inputs: readonly BatchEntryInput[], read?: EntryReads): Promise<BatchEntryOutcome[]> {
  if (inputs.length === 0) return [];
  const hashes = inputs.map((input) => {
    assertEntryShape(input.kind, input.amount, null);
    return entryContentHash(input.uid, input.kind, input.amount, null);
  });
  if (read === undefined) {
    const reads = entryReads(trx, inputs.map((input) => input.uid), inputs.map((input) => input.idempotencyKey));
    read = reads.read(await engineOf(trx).sendInOrder(trx, reads.statements));
  }
  for (const input of inputs) {
    if (!read.uids.has(input.uid) || !read.keys.has(input.idempotencyKey)) throw new Error(`entries were read for other users or keys than ${input.idempotencyKey}'s`);
  }
  const wallets = new Map<string, WalletState>();
  for (const row of read.wallets) wallets.set(row.uid, { ...fromRow(row), ledgerSum: read.sums.get(row.uid) ?? 0n });
  const known = new Map<string, Known>();
  for (const row of read.entries) known.set(row.idempotency_key, { stored: row });

  const pending: PendingEntry[] = [];
  const decisions = inputs.map((input, index): Decision => {
    const contentHash = hashes[index]!;
    const previous = known.get(input.idempotencyKey);
    if (previous) {
      if (contentHashOf(previous) !== contentHash) return { outcome: "conflict", known: previous };
      return { outcome: "duplicate", known: previous, wallet: snapshot(wallets.get(uidOf(previous))!) };
    }
    const now = input.now.toISOString();
    const wallet = wallets.get(input.uid);
    const decided = decideBelowZero(input.kind, input.amount, wallet?.points ?? 0, input.belowZero);
    if (decided.refused) return { outcome: "insufficient_points", available: decided.available };
    const { amount, shortfall } = decided;
    const moves = movesWallet(input.kind);
    const range = decideBalanceRange(amount, moves, wallet?.points ?? 0, wallet?.ledgerSum ?? 0n);
    if (range.refused) return { outcome: "out_of_range", limit: range.limit };
    const state = wallet ?? newWallet(wallets, input.uid, now);
    state.ledgerSum += BigInt(amount);
    if (moves) {
      state.points += amount;
      state.version += 1;
      state.negativeFlagged ||= state.points < 0;
      state.updatedAt = now;
      state.moved = true;
    }
    const entry: PendingEntry = {
      values: {
        uid: input.uid,
        amount,
        kind: input.kind,
        idempotency_key: input.idempotencyKey,
        reverses_entry_id: null,
        balance_after: state.points,
        source: input.source,
        source_ref: input.sourceRef ?? null,
        reason: input.reason ?? null,
        content_hash: contentHash,
        created_at: now,
      },
    };
    pending.push(entry);
    known.set(input.idempotencyKey, { pending: entry });
    return { outcome: "posted", pending: entry, wallet: snapshot(state), shortfall };
  });

  await writeWalletsAndEntries(trx, [...wallets.values()], pending, known);
  return decisions.map(answer);
}

function contentHashOf(known: Known): string {
  return "stored" in known ? known.stored.content_hash : known.pending.values.content_hash;
}

function uidOf(known: Known): string {
  return "stored" in known ? known.stored.uid : known.pending.values.uid;
}

function entryOf(known: Known): Entry {
  if ("stored" in known) return toEntry(known.stored);
  const { id, values } = known.pending;
  if (id === undefined) throw new Error("a pending entry was not inserted");
  return toEntry({ id, ...values });
}

function answer(decision: Decision): BatchEntryOutcome {
  switch (decision.outcome) {
    case "posted":
      return { outcome: "posted", entry: entryOf({ pending: decision.pending }), wallet: decision.wallet, shortfall: decision.shortfall };
    case "duplicate":
      return { outcome: "duplicate", entry: entryOf(decision.known), wallet: decision.wallet };
    case "conflict":
      return { outcome: "conflict", existing: entryOf(decision.known) };
    case "insufficient_points":
    case "out_of_range":
      return decision;
  }
  return unreachable(decision, "decision");
}

function snapshot(state: WalletState): Wallet {
  return { uid: state.uid, points: state.points, version: state.version, negativeFlagged: state.negativeFlagged, updatedAt: state.updatedAt };
}

function newWallet(wallets: Map<string, WalletState>, uid: string, now: string): WalletState {
  const state: WalletState = { uid, points: 0, version: 0, negativeFlagged: false, ledgerSum: 0n, createdAt: now, updatedAt: now, created: true, moved: false };
  wallets.set(uid, state);
  return state;
}

/** What a batch reads before it decides: for `uids` and `keys`, the wallets (locked), their ledger sums, the entries stored under the keys. */
export interface EntryReads {
  uids: ReadonlySet<string>;
  keys: ReadonlySet<string>;
  wallets: Selectable<WalletsTable>[];
  sums: Map<string, bigint>;
  entries: Selectable<LedgerEntriesTable>[];
}

/**
 * The statements of those reads, in the order they must run: the wallets of `uids` that
 * exist locked first (`lockWallets`, in uid order, a statement's worth at a time), then the
 * users' ledger sums, read after the locks so they include whatever the last holder of a
 * lock committed, then the entries of `keys`. A caller may send them together with
 * statements of its own (`sendInOrder`) and hand `read` their results.
 */
export function entryReads(trx: Trx, uids: readonly string[], keys: readonly string[]): { statements: CompiledQuery[]; read(results: readonly QueryResult<any>[]): EntryReads } {
  const sortedUids = [...new Set(uids)].sort();
  const uniqueKeys = [...new Set(keys)];
  const locks = statementChunks(sortedUids, 1).map((chunk) => lockWallets(trx, chunk).selectAll().compile());
  const sums = ledgerSumStatements(trx, sortedUids);
  const byKey = statementChunks(uniqueKeys, 1).map((chunk) => trx.selectFrom("ledger_entries").selectAll().where("idempotency_key", "in", chunk).compile());
  return {
    statements: [...locks, ...sums, ...byKey],
    read: (results) => {
      if (results.length !== locks.length + sums.length + byKey.length) throw new Error("entry reads: one result per statement expected");
      return {
        uids: new Set(sortedUids),
        keys: new Set(uniqueKeys),
        wallets: results.slice(0, locks.length).flatMap((result) => result.rows as Selectable<WalletsTable>[]),
        sums: ledgerSumsOf(results.slice(locks.length, locks.length + sums.length)),
        entries: results.slice(locks.length + sums.length).flatMap((result) => result.rows as Selectable<LedgerEntriesTable>[]),
      };
    },
  };
}

function fromRow(row: Selectable<WalletsTable>): WalletState {
  return { ...toWallet(row), ledgerSum: 0n, createdAt: row.created_at, created: false, moved: false };
}

/**
 * Inserts the wallets the batch created and moves the ones it changed, each in their final
 * state, then inserts the entries through the engine's bulk insert and notes the id each was
 * given; all in one round trip where there is a wire. Nothing commits before the wallet
 * inserts' row counts are checked.
 */
async function writeWalletsAndEntries(trx: Trx, states: WalletState[], pending: PendingEntry[], known: Map<string, Known>): Promise<void> {
  // In one order for every batch: two batches creating the same new wallets in opposite
  // orders would each wait on the other's uncommitted row (a deadlock on PostgreSQL).
  const created = states.filter((state) => state.created).sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  const createdChunks = statementChunks(created, 6);
  const inserts = createdChunks.map((chunk) =>
    trx
      .insertInto("wallets")
      .values(
        chunk.map((state) => ({
          uid: state.uid,
          points: state.points,
          version: state.version,
          negative_flagged: state.negativeFlagged ? 1 : 0,
          created_at: state.createdAt,
          updated_at: state.updatedAt,
        })),
      )
      .onConflict((conflict) => conflict.column("uid").doNothing())
      .returning("uid")
      .compile(),
  );
  const moved = states.filter((state) => state.moved && !state.created);
  const updates = statementChunks(moved, 5).map((chunk) => {
    const values = valuesTable(
      trx,
      ["text", "bigint", "bigint", "smallint", "timestamptz"],
      chunk.map((state) => [state.uid, state.points, state.version, state.negativeFlagged ? 1 : 0, state.updatedAt]),
    );
    return sql`update wallets set points = v.column2, version = v.column3, negative_flagged = v.column4, updated_at = v.column5
      from ${values} where wallets.uid = v.column1`.compile(trx);
  });
  const { results, inserted } = await engineOf(trx).insertLedgerEntriesAfter(trx, [...inserts, ...updates], pending.map((entry) => entry.values));
  // Another transaction created one of them after our read: decide again from the start.
  if (createdChunks.some((chunk, index) => results[index]!.rows.length !== chunk.length)) throw new ConcurrentWriteError("a wallet was created concurrently");
  for (const row of inserted) {
    const entry = known.get(row.idempotency_key);
    if (entry && "pending" in entry) entry.pending.id = row.id;
  }
}

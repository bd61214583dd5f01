import { recordAudit } from "../audit/recordAudit.js";
import { postEntries, type BatchEntryInput, type BatchEntryOutcome } from "../ledger/postEntries.js";
import { setImportedBalance } from "../ledger/setImportedBalance.js";
import type { Wallet } from "../ledger/types.js";
import { statementChunks } from "../storage/setBased.js";
import type { Trx } from "../storage/withTransaction.js";
import type { GroupEntry, LineProblem, UserGroup } from "./LegacyRecord.js";

/** A user ready to import: a wallet line and no problem. */
export type ReadyUser = UserGroup & { points: number };

export interface ImportedUser {
  uid: string;
  line: number;
  /** Entries written by this import, and entries found already imported. */
  posted: number;
  duplicates: number;
  exportedPoints: number;
  /** The exact sum of the user's exported entries. */
  entriesSum: bigint;
  /** The wallet did not exist before this import: it was given the exported balance. */
  created: boolean;
  /** Reckon's balance after the import. */
  walletPoints: number;
}

export type BatchResult = { outcome: "applied"; users: ImportedUser[] } | { outcome: "refused"; problems: { uid: string; problem: LineProblem }[] };

/** Who imported: the audit log's actor. */
export interface ImportContext {
  actor: string;
  now: Date;
}

/** The idempotency key of an imported entry; `/` cannot occur in a uid, so the pair is unambiguous. */
export function importKey(uid: string, id: string): string {
  return `import:${uid}/${id}`;
}

/** Oldest first, so each entry's `balance_after` reads as the legacy history did. */
function chronological(entries: GroupEntry[]): GroupEntry[] {
  return [...entries].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function toInput(uid: string, entry: GroupEntry): BatchEntryInput {
  return {
    uid,
    // The legacy store's history is taken as it happened: credits are purchases, debits spends, even below zero.
    kind: entry.amount > 0 ? "purchase" : "spend",
    amount: entry.amount,
    idempotencyKey: importKey(uid, entry.id),
    source: "import",
    sourceRef: entry.id,
    reason: entry.note,
    belowZero: "allow",
    now: new Date(entry.at),
  };
}

function refusal(outcome: BatchEntryOutcome, entry: GroupEntry): LineProblem | null {
  switch (outcome.outcome) {
    case "posted":
    case "duplicate":
      return null;
    case "conflict":
      return { line: entry.line, code: "entry_changed", problem: `entry ${JSON.stringify(entry.id)} was imported before with other content (${outcome.existing.amount} points)` };
    case "out_of_range":
    case "insufficient_points":
      return { line: entry.line, code: "balance_out_of_range", problem: `entry ${JSON.stringify(entry.id)} would take the user beyond ±${"limit" in outcome ? outcome.limit : 0} points` };
    default: {
      const never: never = outcome;
      throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
    }
  }
}

async function existingWallets(trx: Trx, uids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const chunk of statementChunks(uids, 1)) {
    for (const row of await trx.selectFrom("wallets").select("uid").where("uid", "in", chunk).execute()) found.add(row.uid);
  }
  return found;
}

/**
 * Imports a batch of users in one `trx`: their entries through `postEntries` (an entry
 * imported before is a duplicate and changes nothing), then, for a wallet this import
 * created, the exported balance. A user any of whose entries the ledger refuses is
 * returned as refused, and the caller rolls the batch back and runs it again without
 * that user: nothing of a refused user is ever written.
 */
export async function applyImportBatch(trx: Trx, users: ReadyUser[], context: ImportContext): Promise<BatchResult> {
  const existed = await existingWallets(trx, users.map((user) => user.uid));
  const ordered = users.map((user) => chronological(user.entries));
  const outcomes = await postEntries(trx, users.flatMap((user, index) => ordered[index]!.map((entry) => toInput(user.uid, entry))));

  const problems: { uid: string; problem: LineProblem }[] = [];
  const results: ImportedUser[] = [];
  let cursor = 0;
  for (const [index, user] of users.entries()) {
    let posted = 0;
    let duplicates = 0;
    let wallet: Wallet | null = null;
    let refused: LineProblem | null = null;
    for (const entry of ordered[index]!) {
      const outcome = outcomes[cursor++]!;
      refused ??= refusal(outcome, entry);
      if (outcome.outcome === "posted") posted += 1;
      if (outcome.outcome === "duplicate") duplicates += 1;
      if (outcome.outcome === "posted" || outcome.outcome === "duplicate") wallet = outcome.wallet;
    }
    if (refused) {
      problems.push({ uid: user.uid, problem: refused });
      continue;
    }
    const entriesSum = user.entries.reduce((sum, entry) => sum + BigInt(entry.amount), 0n);
    const created = !existed.has(user.uid);
    let walletPoints = wallet?.points ?? 0;
    if (created && walletPoints !== user.points) {
      const set = await setImportedBalance(trx, { uid: user.uid, points: user.points, expectedWalletVersion: wallet?.version ?? null, now: context.now });
      if (set.outcome !== "set") {
        problems.push({ uid: user.uid, problem: { line: user.line, code: "balance_out_of_range", problem: `the wallet could not be given ${user.points} points (${set.outcome})` } });
        continue;
      }
      await recordAudit(trx, {
        actor: context.actor,
        action: "import.balance",
        subject: user.uid,
        details: { exportedPoints: user.points, entriesPoints: walletPoints, line: user.line },
        now: context.now,
      });
      walletPoints = user.points;
    } else if (!created && wallet === null) {
      const row = await trx.selectFrom("wallets").select("points").where("uid", "=", user.uid).executeTakeFirstOrThrow();
      walletPoints = row.points;
    }
    results.push({ uid: user.uid, line: user.line, posted, duplicates, exportedPoints: user.points, entriesSum, created, walletPoints });
  }
  return problems.length > 0 ? { outcome: "refused", problems } : { outcome: "applied", users: results };
}

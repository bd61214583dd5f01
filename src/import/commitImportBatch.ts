import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { applyImportBatch, type BatchResult, type ImportContext, type ImportedUser, type ReadyUser } from "./applyImportBatch.js";
import type { LineProblem } from "./LegacyRecord.js";

/** How a batch is committed: who imports, and whether every batch is rolled back. */
export interface CommitSettings extends ImportContext {
  /** Read, check and decide everything, then roll every batch back. */
  dryRun: boolean;
}

/** What became of a batch: the users imported, and the users the ledger refused (nothing of theirs written). */
export interface CommittedBatch {
  imported: ImportedUser[];
  refused: { uid: string; problem: LineProblem }[];
}

/** Rolls a dry run's batch back while keeping what it decided. */
class DryRunRollback extends Error {
  constructor(readonly result: BatchResult) {
    super("dry run: rolled back");
  }
}

/**
 * Commits one batch of users in one `trx`, running it again without any user the ledger
 * refused, so a refused user is never imported in part. The one place a batch is
 * written, whether on the caller's connection or on the import's writer thread.
 */
export async function commitImportBatch(db: Db, users: ReadyUser[], settings: CommitSettings): Promise<CommittedBatch> {
  const refused: CommittedBatch["refused"] = [];
  let remaining = users;
  while (remaining.length > 0) {
    const result = await runBatch(db, remaining, settings);
    if (result.outcome === "applied") return { imported: result.users, refused };
    refused.push(...result.problems);
    const skipped = new Set(result.problems.map((problem) => problem.uid));
    remaining = remaining.filter((user) => !skipped.has(user.uid));
  }
  return { imported: [], refused };
}

async function runBatch(db: Db, users: ReadyUser[], settings: CommitSettings): Promise<BatchResult> {
  try {
    return await withTransaction(db, async (trx) => {
      const result = await applyImportBatch(trx, users, settings);
      // A refused user's entries are in this transaction too: undo the batch, keep the answer.
      if (settings.dryRun || result.outcome === "refused") throw new DryRunRollback(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.result;
    throw error;
  }
}

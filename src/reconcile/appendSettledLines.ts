import type { SettledLine } from "../storage/EngineAdapter.js";
import type { Db } from "../storage/openDatabase.js";
import type { SettledLinesWrite, SettledLinesWritten } from "../storage/SeparateWriter.js";
import { withTransaction } from "../storage/withTransaction.js";
import { hashSettledLines } from "./writeLines.js";

class ChunkLost extends Error {}

/**
 * Hashes a chunk's `ok` lines and writes them in one transaction on `db` that first
 * checks the chunk is still `holder`'s, so a claimer whose claim went stale adds nothing
 * to a run another process may be finalizing. A line already stored for a user is kept.
 * The sweep's own connection runs it, or the SQLite writer thread on its connection
 * (`WriteTurns.appendSettledLines`); either way the same statements.
 */
export async function appendSettledLines(db: Db, write: SettledLinesWrite): Promise<Exclude<SettledLinesWritten, { outcome: "unavailable" }>> {
  const lines: SettledLine[] = write.uids.map((uid, index) => ({ uid, points: write.points[index]!, count: write.counts[index]! }));
  // Hashed by whoever writes: on the writer thread, off the sweep's main thread.
  const hashes = hashSettledLines(write.date, lines);
  try {
    const rows = await withTransaction(db, async (trx) => {
      const ours = await trx
        .selectFrom("reconciliation_chunks")
        .select("chunk_no")
        .where("run_id", "=", write.runId)
        .where("chunk_no", "=", write.chunkNo)
        .where("status", "=", "claimed")
        .where("claimed_by", "=", write.holder)
        .executeTakeFirst();
      if (!ours) throw new ChunkLost();
      return lines.length === 0 ? 0 : db.engine.insertSettledLines(trx, write.runId, lines, hashes);
    });
    return { outcome: "written", rows, hashes };
  } catch (error) {
    if (error instanceof ChunkLost) return { outcome: "chunk_lost" };
    throw error;
  }
}

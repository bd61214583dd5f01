import type { ProofDb } from "./database.js";
import type { DriftOp } from "./operations.js";

export const DRIFT_TABLE = "create table if not exists proof_drifts (op_id integer primary key, uid text not null, points integer not null)";

/**
 * Moves a wallet's points behind Reckon's back (no entry, no version bump), as a
 * buggy script would, and records the edit in the proof's own table in the same
 * transaction, so an edit whose commit answer was lost can be looked up afterwards.
 * Returns whether the wallet existed and was changed.
 */
export async function plantDrift(db: ProofDb, op: DriftOp): Promise<boolean> {
  // A retry after an error: the first try may have committed without its answer.
  const recorded = await db.all("select op_id from proof_drifts where op_id = ?", [op.id]);
  if (recorded.length === 1) return true;
  return db.transaction(async (run) => {
    const changed = await run("update wallets set points = points + ? where uid = ?", [op.points, op.uid]);
    if (changed === 1) await run("insert into proof_drifts (op_id, uid, points) values (?, ?, ?)", [op.id, op.uid, op.points]);
    return changed === 1;
  });
}

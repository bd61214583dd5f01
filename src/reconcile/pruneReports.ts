import { withTransaction, type Trx } from "../storage/withTransaction.js";
import type { Db } from "../storage/openDatabase.js";
import { archivableRuns } from "./archivableRuns.js";
import { runsDigest } from "./readArchives.js";
import type { RunRecord } from "./runRecord.js";

export type PruneOutcome =
  /** The runs (and their lines) of these archives left the database; `kept` runs before the date are not archived yet. */
  | { outcome: "pruned"; archives: number[]; runs: number; lines: number; throughPosition: number; throughDate: string; kept: number }
  | { outcome: "nothing_to_prune" }
  /** No verified archive holds the run at `position`: archive first (`reports archive`). Nothing was deleted. */
  | { outcome: "not_archived"; position: number; date: string }
  /** The runs in the database are not the ones archive `id` recorded. Nothing was deleted. */
  | { outcome: "archive_mismatch"; id: number };

/**
 * `reports prune --before D`: deletes the runs dated before D (the prefix of the chain
 * `archivableRuns` gives) and their lines, whole archive by whole archive, and only
 * runs a verified archive recorded in `report_archives` holds, unchanged since. With
 * `partial: false` (the CLI) it refuses unless every such run is archived; with
 * `partial: true` (the scheduler's retention) it prunes the archived part and says how
 * many runs it kept. The last pruned archive's head stays in `report_archives`, so the
 * first remaining run still links to a recorded, signed head (`reports verify`). The
 * per-date heal claims (`reconciliation_heals`) stay: a date is never healed twice.
 */
export async function pruneReports(db: Db, request: { before: string; now: Date; partial: boolean }): Promise<PruneOutcome> {
  return withTransaction(db, async (trx) => {
    const runs = await archivableRuns(trx, request.before);
    if (runs.length === 0) return { outcome: "nothing_to_prune" };
    const archives = await trx.selectFrom("report_archives").selectAll().where("pruned_at", "is", null).orderBy("first_position").execute();
    const taken: { id: number; runs: RunRecord[] }[] = [];
    let next = 0;
    for (const archive of archives) {
      const first = Number(archive.first_position);
      const last = Number(archive.last_position);
      if (first !== runs[next]?.chainPosition) continue;
      const held = runs.slice(next, next + (last - first + 1));
      // An archive reaching past the date's runs is pruned with a later date.
      if (held.at(-1)?.chainPosition !== last) break;
      if (runsDigest(held) !== archive.runs_digest) return { outcome: "archive_mismatch", id: Number(archive.id) };
      taken.push({ id: Number(archive.id), runs: held });
      next += held.length;
      if (next === runs.length) break;
    }
    const unarchived = runs[next];
    if (unarchived && (!request.partial || taken.length === 0)) return { outcome: "not_archived", position: unarchived.chainPosition!, date: unarchived.runDate };
    const pruned = taken.flatMap((archive) => archive.runs);
    const lines = await deleteRuns(trx, pruned.map((run) => run.id));
    await trx.updateTable("report_archives").set({ pruned_at: request.now.toISOString() }).where("id", "in", taken.map((archive) => archive.id)).execute();
    const last = pruned.at(-1)!;
    return {
      outcome: "pruned",
      archives: taken.map((archive) => archive.id),
      runs: pruned.length,
      lines,
      throughPosition: last.chainPosition!,
      throughDate: last.runDate,
      kept: runs.length - pruned.length,
    };
  });
}

/** Deletes runs with their lines and chunks; their heal claims stay, without the run. Returns the lines deleted. */
async function deleteRuns(trx: Trx, runIds: number[]): Promise<number> {
  let lines = 0;
  for (const runId of runIds) {
    await trx.deleteFrom("reconciliation_chunks").where("run_id", "=", runId).execute();
    await trx.updateTable("reconciliation_heals").set({ run_id: null }).where("run_id", "=", runId).execute();
    const deleted = await trx.deleteFrom("reconciliation_user_reports").where("run_id", "=", runId).executeTakeFirst();
    lines += Number(deleted.numDeletedRows);
    await trx.deleteFrom("reconciliation_runs").where("id", "=", runId).execute();
  }
  return lines;
}

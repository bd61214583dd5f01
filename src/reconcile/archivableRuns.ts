import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { readPrunedArchive } from "./readArchives.js";
import { toRunRecord, type RunRecord } from "./runRecord.js";

/**
 * The runs `reports archive|prune --before D` act on: the chain from the first run still
 * in the database, in chain order, as long as each is dated before `before`. The chain
 * head always stays (the next run links to it), and a run dated on or after `before`
 * ends the range, so what is archived and pruned is always a prefix of the chain and the
 * runs left still link to one another.
 */
export async function archivableRuns(db: Kysely<Schema>, before: string): Promise<RunRecord[]> {
  const pruned = await readPrunedArchive(db);
  const rows = await db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where("chain_position", "is not", null)
    .where("chain_position", ">", pruned?.lastPosition ?? 0)
    .orderBy("chain_position")
    .execute();
  const runs = rows.map(toRunRecord);
  const range: RunRecord[] = [];
  let expected = (pruned?.lastPosition ?? 0) + 1;
  for (const run of runs.slice(0, -1)) {
    if (run.chainPosition !== expected || run.runDate >= before) break;
    range.push(run);
    expected += 1;
  }
  return range;
}

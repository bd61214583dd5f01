import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Schema } from "../storage/schema.js";
import type { Db } from "../storage/openDatabase.js";
import type { RangeToSweep } from "../storage/SeparateWriter.js";
import type { Chunk } from "./claimChunk.js";
import { rangeOn, settledOn, type UidRange } from "./uidRange.js";
import type { SweptLines } from "./sweepFold.js";
import { sweepSlice } from "./sweepSlice.js";
import { walkSlices } from "./walkSlices.js";
import { settledLinesInsert, type SettledColumns } from "./writeLines.js";
import { yieldToRequests } from "./yieldToRequests.js";

export interface RangeObserved {
  usersChecked: number;
  /**
   * Users whose wallet differs from their entries, or whose figures are past the exact
   * range, in user-id order: the heal reads them again exactly and decides their lines.
   */
  drifted: string[];
  /** False when the chunk is no longer ours (a stale claim another process took over): nothing was written. */
  kept: boolean;
  /** The `ok` lines with their hashes where this process wrote them (in slices); null where the engine wrote them in SQL. */
  okLines: SweptLines | null;
}

export interface ObservedChunk {
  runId: number;
  date: string;
  chunk: Pick<Chunk, "chunk_no" | "uid_after" | "uid_last">;
  holder: string;
  /**
   * The holder is the chunk's first claimer (`ClaimedChunk.firstClaim`), so no line of
   * its range exists and none can be written but by this statement: the lines go in
   * without the per-row check for an earlier one. Otherwise a line already written by an
   * earlier claimer is kept.
   */
  firstClaim?: boolean;
}

/**
 * Observes every wallet of a chunk's range in one consistent read, writes the report
 * line of every user whose wallet equals their entries (`ok`), and returns the others.
 * Lines are written only while `holder` still holds the chunk, so a claimer that lost
 * its chunk adds nothing to a run another process may already be finalizing.
 */
export async function observeRange(db: Db, target: ObservedChunk): Promise<RangeObserved> {
  const { inProcess, writableCtes, rowLocks } = db.engine;
  const insert = !inProcess && writableCtes && rowLocks ? settledLinesInsert(db.engine, target, SEEN_SETTLED, { keepEarlier: target.firstClaim !== true }) : null;
  return insert ? observeInOneStatement(db, target, insert) : observeInSlices(db, target);
}

/** The users in balance among the rows of `seen` in `observeInOneStatement`. */
const SEEN_SETTLED: SettledColumns = {
  from: "seen",
  uid: sql.ref("uid"),
  points: sql.ref("points"),
  count: sql.ref("n"),
  where: settledOn(sql.ref("points"), sql.ref("total")),
};

interface ObservedRow {
  checked: number | string;
  uid: string | null;
  kept: boolean;
}

/**
 * An engine that runs statements in its own backends, can write from a `WITH` clause,
 * lock rows and hash in SQL does it in one statement: the aggregate, the `ok` lines with
 * their hashes (`insert`, from `settledLinesInsert`; `observeRange.test.ts` holds them
 * equal to `lineHash`), and the user ids of the others come back. A chunk's thousands of lines never travel to Node
 * and back, which was most of the run's time; no figure of an unsettled user is read as
 * a number here. The chunk row is locked for the statement, so the check that it is
 * still ours holds until the lines commit.
 */
async function observeInOneStatement(db: Db, target: ObservedChunk, insert: RawBuilder<unknown>): Promise<RangeObserved> {
  const range = { after: target.chunk.uid_after, last: target.chunk.uid_last };
  // The planner estimates a chunk's rows from the user-id histogram, which for text ids can
  // be off by orders of magnitude (1 row for 5,000 in the bench's last histogram bucket).
  // Believing one row, it joined each wallet to a re-run of the whole range's aggregate:
  // 12.5M rows through the join and 29-44 s for that one chunk. Without nested loops the join is a
  // merge or hash join, linear whatever the estimate. The nested loop that remains (the count
  // joined to the drifted rows, one row) then costs "disabled", which would JIT-compile every
  // chunk's statement (0.8 s each): no JIT either; it never pays for a 5,000-user statement.
  // See docs/decisions/reconciliation-performance.md, "The 35 s mode".
  const result = await db.kysely.transaction().execute(async (trx) => {
    await db.engine.joinWithoutTrustingEstimates(trx);
    return observeStatement(trx, target, range, insert);
  });
  const first = result.rows[0]!;
  const drifted = result.rows.filter((row) => row.uid !== null).map((row) => row.uid!);
  return { usersChecked: Number(first.checked), drifted, kept: first.kept, okLines: null };
}

function observeStatement(trx: Kysely<Schema>, target: ObservedChunk, range: UidRange, insert: RawBuilder<unknown>) {
  return sql<ObservedRow>`
    WITH ours AS (
      SELECT 1 FROM reconciliation_chunks
      WHERE run_id = ${target.runId} AND chunk_no = ${target.chunk.chunk_no} AND status = 'claimed' AND claimed_by = ${target.holder}
      FOR UPDATE
    ), seen AS MATERIALIZED (
      SELECT w.uid, w.points, COALESCE(e.total, 0) AS total, COALESCE(e.n, 0) AS n
      FROM wallets w
      LEFT JOIN (
        SELECT uid, SUM(amount) AS total, COUNT(*) AS n FROM ledger_entries
        WHERE ${rangeOn(sql.ref("uid"), range)} GROUP BY uid
      ) e ON e.uid = w.uid
      WHERE ${rangeOn(sql.ref("w.uid"), range)} AND EXISTS (SELECT 1 FROM ours)
    ), written AS (
      ${insert}
    )
    SELECT counted.checked, d.uid, EXISTS (SELECT 1 FROM ours) AS kept
    FROM (SELECT COUNT(*) AS checked FROM seen) counted
    LEFT JOIN seen d ON NOT ${settledOn(sql.ref("d.points"), sql.ref("d.total"))}
    ORDER BY d.uid`.execute(trx);
}

/**
 * Users per slice where queries run in this process. Each slice is one statement
 * holding the database's one write lock (and, on the writer thread, the webhook batches
 * waiting behind it); a slice of 1,000 holds them for a few milliseconds where a whole
 * chunk of 5,000 held them for 30–50.
 */
const SLICE_USERS = 1_000;

/**
 * Otherwise the range is walked a slice at a time (`walkSlices`), each slice observed and
 * its `ok` lines written in one statement and one transaction that first checks the chunk
 * is still ours (`sweepSlice`). Where a webhook writer thread owns a connection of its own,
 * that thread walks the range, a slice between two of its batches, and no row of it
 * reaches this thread; otherwise this connection does, with a turn for live requests
 * between slices.
 */
async function observeInSlices(db: Db, target: ObservedChunk): Promise<RangeObserved> {
  const range: RangeToSweep = {
    runId: target.runId,
    date: target.date,
    chunkNo: target.chunk.chunk_no,
    holder: target.holder,
    after: target.chunk.uid_after,
    last: target.chunk.uid_last,
    sliceUsers: SLICE_USERS,
  };
  const viaWriter = await db.separateWriter?.turns?.sweepRange?.(range);
  const walked = viaWriter && !("unavailable" in viaWriter) ? viaWriter : await walkSlices(range, (slice) => sweepSlice(db, slice), yieldToRequests);
  if (!walked.kept) return { usersChecked: 0, drifted: [], kept: false, okLines: null };
  const { usersChecked, drifted, hashes, driftedAfter, complete } = walked;
  return { usersChecked, drifted, kept: true, okLines: { hashes, driftedAfter, complete } };
}

import { sql, type Kysely, type RawBuilder } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
import type { Db } from "../storage/openDatabase.js";
import type { Schema } from "../storage/schema.js";
import type { ObservedChunk, RangeObserved } from "./observeRange.js";
import { rangeOn, settledOn, type UidRange } from "./readSweptUsers.js";
import { LINE_HASH_CHARS } from "./reportHashes.js";
import type { SweptLines } from "./sweepFold.js";
import type { SettledColumns } from "./writeLines.js";

/** `observeRange` where the engine runs statements in its own backends (PostgreSQL): a chunk in one statement. */

/** The users in balance among the rows of `seen` in `observeInOneStatement`. */
export const SEEN_SETTLED: SettledColumns = {
  from: "seen",
  uid: sql.ref("uid"),
  points: sql.ref("points"),
  count: sql.ref("n"),
  where: settledOn(sql.ref("points"), sql.ref("total")),
};

interface ObservedRow {
  /** "seen": the count and the drifted users (one row with a null `uid` if none); "written": the written `ok` lines' hashes. */
  part: "seen" | "written";
  checked: number | string | null;
  uid: string | null;
  kept: boolean | null;
  /** On a drifted user's row, with `fold`: how many `ok` lines come before it in user-id order. */
  ok_before: number | string | null;
  /** On the "written" row: the hashes concatenated in user-id order, and their count. */
  hashes: string | null;
  lines: number | string | null;
}

/**
 * An engine that runs statements in its own backends, can write from a `WITH` clause,
 * lock rows and hash in SQL does it in one statement: the aggregate, the `ok` lines with
 * their hashes (`insert`, from `settledLinesInsert`; `observeRange.test.ts` holds them
 * equal to `lineHash`), and the user ids of the others come back. A chunk's thousands of lines never travel to Node
 * as rows, which was most of the run's time; no figure of an unsettled user is read as
 * a number here. The chunk row is locked for the statement, so the check that it is
 * still ours holds until the lines commit.
 *
 * With `fold` (a first claim, whose lines no one else can have written) the written
 * hashes also come back, concatenated by the database in user-id order, with the number
 * of `ok` lines before each drifted user: the run's digest is then folded as the sweep
 * goes, and finalize does not read the million lines back (2–3 s of a run under load;
 * docs/decisions/reconciliation-performance.md, "PostgreSQL, fifth round").
 */
export async function observeInOneStatement(db: Db, target: ObservedChunk, insert: RawBuilder<unknown>, fold: boolean): Promise<RangeObserved> {
  const range = { after: target.chunk.uid_after, last: target.chunk.uid_last };
  // The planner estimates a chunk's rows from the user-id histogram, which for text ids can
  // be off by orders of magnitude (1 row for 5,000 in the bench's last histogram bucket).
  // Believing one row, it joined each wallet to a re-run of the whole range's aggregate:
  // 12.5M rows through the join and 29-44 s for that one chunk. Without nested loops the join is a
  // merge or hash join, linear whatever the estimate. The nested loop that remains (the count
  // joined to the drifted rows, one row) then costs "disabled", which would JIT-compile every
  // chunk's statement (0.8 s each): no JIT either; it never pays for a 5,000-user statement.
  // See docs/decisions/reconciliation-performance.md, "The 35 s mode".
  const result = await withoutTrustingEstimates(db, (trx) => observeStatement(trx, target, range, insert, fold));
  const seen = result.rows.filter((row) => row.part === "seen");
  const first = seen[0]!;
  const driftedRows = seen.filter((row) => row.uid !== null);
  const drifted = driftedRows.map((row) => row.uid!);
  const kept = first.kept === true;
  const written = result.rows.find((row) => row.part === "written");
  const okLines = fold && kept && written ? cutBetweenDrifted(written, driftedRows, Number(first.checked) - drifted.length) : null;
  return { usersChecked: Number(first.checked), drifted, kept, okLines };
}

/**
 * Runs `work` in a transaction planned by `joinWithoutTrustingEstimates`. Where the engine
 * opens it with its settings in one round trip, the chunk's statement costs three (open,
 * observe, commit) instead of four: under load each waits for the serving process's event
 * loop (docs/decisions/reconciliation-performance.md, "PostgreSQL, fifth round").
 */
async function withoutTrustingEstimates<T>(db: Db, work: (trx: Kysely<Schema>) => Promise<T>): Promise<T> {
  const begin = db.engine.beginWithoutTrustingEstimates;
  if (!begin) {
    return db.kysely.transaction().execute(async (trx) => {
      await db.engine.joinWithoutTrustingEstimates(trx);
      return work(trx);
    });
  }
  return db.kysely.connection().execute(async (connection) => {
    await begin(connection);
    try {
      const done = await work(connection);
      await sql`COMMIT`.execute(connection);
      return done;
    } catch (error) {
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * The written hashes cut where the drifted users go (`SweptLines.segments`); incomplete
 * unless they are every `ok` line of the chunk, each `LINE_HASH_CHARS` long, and the cuts in order.
 */
function cutBetweenDrifted(written: ObservedRow, driftedRows: readonly ObservedRow[], okCount: number): SweptLines {
  const hashes = written.hashes ?? "";
  const lines = Number(written.lines);
  let complete = lines === okCount && hashes.length === lines * LINE_HASH_CHARS;
  const segments: SweptLines["segments"] = [];
  let from = 0;
  for (const until of [...driftedRows.map((row) => Number(row.ok_before)), lines]) {
    if (!(until >= from && until <= lines)) complete = false;
    segments.push({ hashes: hashes.slice(from * LINE_HASH_CHARS, until * LINE_HASH_CHARS), lines: until - from });
    from = until;
  }
  return { segments, complete };
}

function observeStatement(trx: Kysely<Schema>, target: ObservedChunk, range: UidRange, insert: RawBuilder<unknown>, fold: boolean) {
  // For each row, the settled users up to it in user-id order: on a drifted row, the `ok` lines before it.
  const okBefore = fold ? sql`, COUNT(*) FILTER (WHERE ${settledOn(sql.ref("w.points"), sql`COALESCE(e.total, 0)`)}) OVER (ORDER BY w.uid) AS ok_before` : sql`, NULL AS ok_before`;
  const hashes = fold
    ? sql`UNION ALL
      SELECT 'written', NULL, NULL, NULL, NULL, ${engineOf(trx).concatInOrder(sql.ref("line_hash"), sql.ref("uid"))}, COUNT(*) FROM written`
    : sql``;
  return sql<ObservedRow>`
    WITH ours AS (
      SELECT 1 FROM reconciliation_chunks
      WHERE run_id = ${target.runId} AND chunk_no = ${target.chunk.chunk_no} AND status = 'claimed' AND claimed_by = ${target.holder}
      FOR UPDATE
    ), seen AS MATERIALIZED (
      SELECT w.uid, w.points, COALESCE(e.total, 0) AS total, COALESCE(e.n, 0) AS n ${okBefore}
      FROM wallets w
      LEFT JOIN (
        SELECT uid, SUM(amount) AS total, COUNT(*) AS n FROM ledger_entries
        WHERE ${rangeOn(sql.ref("uid"), range)} GROUP BY uid
      ) e ON e.uid = w.uid
      WHERE ${rangeOn(sql.ref("w.uid"), range)} AND EXISTS (SELECT 1 FROM ours)
    ), written AS (
      ${insert}
    )
    SELECT 'seen' AS part, counted.checked, d.uid, EXISTS (SELECT 1 FROM ours) AS kept, CAST(d.ok_before AS bigint) AS ok_before,
      CAST(NULL AS text) AS hashes, CAST(NULL AS bigint) AS lines
    FROM (SELECT COUNT(*) AS checked FROM seen) counted
    LEFT JOIN seen d ON NOT ${settledOn(sql.ref("d.points"), sql.ref("d.total"))}
    ${hashes}
    ORDER BY part, uid`.execute(trx);
}

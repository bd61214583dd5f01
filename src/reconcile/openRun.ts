import { sql, type Kysely, type Selectable } from "kysely";
import type { Db } from "../storage/openDatabase.js";
import type { ReconciliationRunsTable, Schema } from "../storage/schema.js";
import { withTransaction } from "../storage/withTransaction.js";
import { yieldToRequests } from "./yieldToRequests.js";
import type { HealPolicy } from "./planHeal.js";

/** A run nobody has worked on for this long is taken over by the next caller. */
export const STALE_AFTER_MS = 10 * 60_000;

export const OPEN_STATUSES = ["running", "finalizing"] as const;

export interface OpenRunInput {
  date: string;
  policy: HealPolicy;
  chunkUsers: number;
  /** `start` refuses a run already in progress; `join` shares its chunks (several instances). */
  mode: "start" | "join";
  now: Date;
}

export type OpenRunOutcome =
  | { outcome: "opened"; runId: number; created: boolean }
  /** 409: a run for this date is in progress and the caller asked to start one. */
  | { outcome: "in_progress"; runId: number };

export async function findOpenRun(db: Kysely<Schema>, date: string): Promise<Selectable<ReconciliationRunsTable> | undefined> {
  return db
    .selectFrom("reconciliation_runs")
    .selectAll()
    .where("run_date", "=", date)
    .where("status", "in", OPEN_STATUSES)
    .executeTakeFirst();
}

export function isStale(heartbeatAt: string | null, now: Date): boolean {
  return heartbeatAt === null || Date.parse(heartbeatAt) < now.getTime() - STALE_AFTER_MS;
}

/**
 * Every `chunkUsers`-th user id, in index order: the boundaries of the chunks. Read
 * before the run's write transaction so the scan never holds the write lock. Where the
 * engine runs statements in this process (SQLite), one boundary per statement (each skips
 * `chunkUsers` index entries) with a turn for live requests in between: a single window
 * query over a million wallets held SQLite's connection, and with it the process's event
 * loop, for 0.4 s. Elsewhere the same skips run in one recursive statement, so they cost
 * one round trip instead of one per chunk (50 at 1M users, each waiting on the serving
 * process's event loop under load: docs/decisions/reconciliation-performance.md,
 * "PostgreSQL, fifth round").
 */
async function chunkBoundaries(db: Db, chunkUsers: number): Promise<string[]> {
  if (!db.engine.inProcess) return boundariesInOneStatement(db.kysely, chunkUsers);
  const boundaries: string[] = [];
  for (;;) {
    let query = db.kysely.selectFrom("wallets").select("uid").orderBy("uid").limit(1).offset(chunkUsers - 1);
    const after = boundaries.at(-1);
    if (after !== undefined) query = query.where("uid", ">", after);
    const next = await query.executeTakeFirst();
    if (!next) return boundaries;
    boundaries.push(next.uid);
    await yieldToRequests();
  }
}

/** The loop above as one statement: each step skips `chunkUsers` index entries after the last boundary; `k` keeps their order. */
async function boundariesInOneStatement(db: Kysely<Schema>, chunkUsers: number): Promise<string[]> {
  const skip = chunkUsers - 1;
  const found = await sql<{ uid: string }>`
    WITH RECURSIVE bound(k, uid) AS (
      SELECT 1, (SELECT uid FROM wallets ORDER BY uid LIMIT 1 OFFSET ${skip})
      UNION ALL
      SELECT bound.k + 1, (SELECT w.uid FROM wallets w WHERE w.uid > bound.uid ORDER BY w.uid LIMIT 1 OFFSET ${skip})
      FROM bound WHERE bound.uid IS NOT NULL
    )
    SELECT uid FROM bound WHERE uid IS NOT NULL ORDER BY k`.execute(db);
  return found.rows.map((row) => row.uid);
}

/**
 * Opens the run for a date, or joins the one in progress. The run row and all its
 * chunk rows commit together, so a process that sees the run also sees its chunks.
 * The last chunk has no upper bound: wallets created during the run are checked too.
 */
export async function openRun(db: Db, input: OpenRunInput): Promise<OpenRunOutcome> {
  const answerExisting = (run: Selectable<ReconciliationRunsTable>): OpenRunOutcome =>
    input.mode === "join" || isStale(run.heartbeat_at, input.now)
      ? { outcome: "opened", runId: run.id, created: false }
      : { outcome: "in_progress", runId: run.id };

  const existing = await findOpenRun(db.kysely, input.date);
  if (existing) return answerExisting(existing);

  const boundaries = await chunkBoundaries(db, input.chunkUsers);
  const now = input.now.toISOString();
  const createdId = await withTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("reconciliation_runs")
      .values({
        run_date: input.date,
        status: "running",
        heal_policy: input.policy,
        started_at: now,
        heartbeat_at: now,
      })
      .onConflict((conflict) => conflict.doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) return undefined;
    const bounds: (string | null)[] = [null, ...boundaries, null];
    const chunks = bounds.slice(0, -1).map((after, index) => ({
      run_id: inserted.id,
      chunk_no: index,
      uid_after: after,
      uid_last: bounds[index + 1] ?? null,
      status: "pending" as const,
    }));
    for (let start = 0; start < chunks.length; start += 1000) {
      await trx.insertInto("reconciliation_chunks").values(chunks.slice(start, start + 1000)).execute();
    }
    return inserted.id;
  });
  if (createdId !== undefined) return { outcome: "opened", runId: createdId, created: true };
  // Another process opened it between our read and our insert.
  const winner = await findOpenRun(db.kysely, input.date);
  if (!winner) throw new Error(`run for ${input.date} neither created nor found`);
  return answerExisting(winner);
}

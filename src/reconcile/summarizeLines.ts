import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import { engineOf } from "../storage/EngineAdapter.js";
import type { ReconciliationUserReportsTable, Schema } from "../storage/schema.js";
import type { RefusalReason } from "./planHeal.js";
import { lineHash, lineTotals, LinesDigest, type LineAction, type ReportLine } from "./reportHashes.js";
import { rangeOn } from "./uidRange.js";
import { yieldToRequests } from "./yieldToRequests.js";

export type StoredLine = ReportLine & { lineHash: string };
type LineRow = Selectable<ReconciliationUserReportsTable>;
type LineColumn = keyof LineRow & string;

/** Small enough that reading one page (synchronous where the engine runs in this process) never holds live requests for long. */
const PAGE_LINES = 5_000;
const ALL_COLUMNS = [
  "uid", "wallet_points", "ledger_sum", "ledger_count", "delta", "action", "adjustment_entry_id", "line_hash", "reason", "detail",
] as const satisfies readonly LineColumn[];
/** What finalize needs: the stored hash and what the totals count. */
const SUMMARY_COLUMNS = ["uid", "delta", "action", "line_hash"] as const satisfies readonly LineColumn[];

/** A stored report line as the hashes read it. */
export function toLine(row: Pick<LineRow, (typeof ALL_COLUMNS)[number]>): StoredLine {
  return {
    uid: row.uid,
    walletPoints: Number(row.wallet_points),
    ledgerSum: Number(row.ledger_sum),
    ledgerCount: Number(row.ledger_count),
    delta: Number(row.delta),
    action: row.action as LineAction,
    adjustmentEntryId: row.adjustment_entry_id === null ? null : Number(row.adjustment_entry_id),
    reason: row.reason as RefusalReason | null,
    detail: row.detail,
    lineHash: row.line_hash,
  };
}

/**
 * Integer columns verify reads as decimal text: a value edited past 2^53 then shows as
 * an altered line instead of failing the read (the PostgreSQL driver refuses to round it).
 */
const TEXT_COLUMNS: readonly LineColumn[] = ["wallet_points", "ledger_sum", "ledger_count", "delta", "adjustment_entry_id"];

function selection(columns: readonly LineColumn[], asText: boolean) {
  return sql.join(columns.map((column) => (asText && TEXT_COLUMNS.includes(column) ? sql`CAST(${sql.ref(column)} AS TEXT) AS ${sql.ref(column)}` : sql.ref(column))));
}

/**
 * Hands `columns` of a run's lines to `onPage` in user-id order, a page at a time
 * (never the whole report in memory), letting live requests run between pages. How
 * an engine pages is its own (`EngineAdapter.readInKeyOrder`).
 */
async function forEachLinePage<C extends LineColumn>(
  db: Kysely<Schema>,
  runId: number,
  read: { columns: readonly C[]; asText: boolean },
  onPage: (rows: Pick<LineRow, C>[]) => void,
): Promise<void> {
  const lines = { columns: selection(read.columns, read.asText), from: "reconciliation_user_reports", where: sql`run_id = ${runId}`, key: "uid", pageRows: PAGE_LINES };
  await engineOf(db).readInKeyOrder<Pick<LineRow, C>>(db, lines, async (rows) => {
    onPage(rows);
    await yieldToRequests();
  });
}

export interface LinesSummary {
  usersChecked: number;
  violations: number;
  refused: number;
  adjustmentAbsTotal: number;
  digest: string;
}

/** Folds lines, fed in user-id order with their hashes, into a run's figures and the digest of the hashes. */
export class LinesFold {
  readonly #digest = new LinesDigest();
  readonly #summary = { usersChecked: 0, violations: 0, refused: 0, adjustmentAbsTotal: 0 };
  add(hashHex: string, line: Pick<ReportLine, "delta" | "action">): void {
    this.#digest.add(hashHex);
    const totals = lineTotals(line);
    this.#summary.usersChecked += 1;
    this.#summary.violations += totals.violation;
    this.#summary.refused += totals.refused;
    this.#summary.adjustmentAbsTotal += totals.adjusted;
  }
  /**
   * Folds a page of lines given as their hashes concatenated in user-id order (the digest
   * takes them as a stream either way) and the count of lines of each delta and action.
   */
  addPage(hashes: string, groups: readonly { delta: number; action: LineAction; lines: number }[]): void {
    this.#digest.add(hashes);
    for (const { delta, action, lines } of groups) {
      const totals = lineTotals({ delta, action });
      this.#summary.usersChecked += lines;
      this.#summary.violations += totals.violation * lines;
      this.#summary.refused += totals.refused * lines;
      this.#summary.adjustmentAbsTotal += totals.adjusted * lines;
    }
  }
  summary(): LinesSummary {
    return { ...this.#summary, digest: this.#digest.hex() };
  }
}

/**
 * Folds a run's lines, in user-id order, into its figures and the digest of its line
 * hashes. Finalize trusts the stored hashes (the sweep wrote them moments ago) and reads
 * four columns; verify passes `onLine`, and then every hash is recomputed from its
 * line's fields, the digest is made of the recomputed ones, and `onLine` sees both
 * (to name altered lines).
 */
export async function summarizeLines(
  db: Kysely<Schema>,
  runId: number,
  runDate: string,
  onLine?: (line: StoredLine, recomputed: string) => void,
): Promise<LinesSummary> {
  const lines = new LinesFold();
  const fold = (hashHex: string, line: Pick<ReportLine, "delta" | "action">) => lines.add(hashHex, line);
  if (onLine) {
    await forEachLinePage(db, runId, { columns: ALL_COLUMNS, asText: true }, (rows) => {
      for (const row of rows) {
        const line = toLine(row);
        const recomputed = lineHash(runDate, line);
        onLine(line, recomputed);
        fold(recomputed, line);
      }
    });
  } else if (engineOf(db).inProcess) {
    await foldStoredPages(db, runId, lines);
  } else if (!(await foldChunkRanges(db, runId, lines))) {
    await forEachLinePage(db, runId, { columns: SUMMARY_COLUMNS, asText: false }, (rows) => {
      for (const row of rows) fold(row.line_hash, { delta: Number(row.delta), action: row.action as LineAction });
    });
  }
  return lines.summary();
}

/**
 * Finalize where queries run in their own backends (PostgreSQL): for one chunk's
 * user-id range at a time, the database concatenates the stored hashes in user-id
 * order and counts the lines of each delta and action, so no line crosses the wire as
 * a row. The chunks of a run partition the user ids (the first has no lower bound, the
 * last no upper one, each starts where the one before ended), so their ranges in order
 * give the same stream of hashes as one read of every line. Each range is a bounded
 * read along the primary key (`readAlongIndexes`: right after the run the table's
 * statistics still say it is empty). All of it reads one snapshot, in a transaction of
 * its own unless `db` is one; in its own, a second connection shares the snapshot and the ranges
 * (`helpInSnapshot`), the pages still folded in range order. False, having folded
 * nothing, when the run's chunks do not partition the ids (its chunk rows are gone).
 */
async function foldChunkRanges(db: Kysely<Schema>, runId: number, lines: LinesFold): Promise<boolean> {
  let helper: Promise<void> = Promise.resolve();
  let ranges: RangesInOrder | undefined;
  const fold = async (trx: Kysely<Schema>, ownTransaction: boolean): Promise<boolean> => {
    const chunks = await trx
      .selectFrom("reconciliation_chunks")
      .select(["uid_after", "uid_last"])
      .where("run_id", "=", runId)
      .orderBy("chunk_no")
      .execute();
    if (!partitionsUserIds(chunks)) return false;
    const engine = engineOf(trx);
    if (ownTransaction) await engine.readAlongIndexes(trx);
    const inOrder = new RangesInOrder(chunks.length, (page) => lines.addPage(page.hashes, page.groups));
    ranges = inOrder;
    const read = (on: Kysely<Schema>, index: number) => foldRange(on, runId, chunks[index]!);
    // A second connection folds ranges too, in this transaction's own snapshot, so the
    // read-back of a run's lines uses both backends (two sweepers' worth of connections).
    const shared = ownTransaction ? engine.sharedSnapshots : null;
    if (shared) helper = helpInSnapshot(db, await shared.exportSnapshot(trx), inOrder, read);
    await inOrder.work((index) => read(trx, index));
    return true;
  };
  if (db.isTransaction) return fold(db, false);
  try {
    return await db.transaction().setIsolationLevel("repeatable read").execute((trx) => fold(trx, true));
  } catch (error) {
    // The fold failed: the helper takes no further range (its pages would go to a fold no one reads).
    ranges?.close();
    throw error;
  } finally {
    // Done with the fold or stopped by `close`: awaited either way, so it never outlives the fold.
    await helper;
  }
}

interface RangePage {
  hashes: string;
  groups: { delta: number; action: LineAction; lines: number }[];
}

/** One chunk's range: its lines' hashes concatenated in user-id order, and the count of each delta and action. */
async function foldRange(trx: Kysely<Schema>, runId: number, chunk: { uid_after: string | null; uid_last: string | null }): Promise<RangePage> {
  const engine = engineOf(trx);
  const inRange = sql`run_id = ${runId} AND ${rangeOn(sql.ref("uid"), { after: chunk.uid_after, last: chunk.uid_last })}`;
  // The in-balance lines' count rides on the row of the hashes; the others come grouped.
  const rows = await sql<{ hashes: string | null; delta: number | string; action: LineAction; lines: number | string }>`
    SELECT ${engine.concatInOrder(sql.ref("line_hash"), sql.ref("uid"))} AS hashes, 0 AS delta, 'ok' AS action,
      COUNT(CASE WHEN delta = 0 AND action = 'ok' THEN 1 END) AS lines
    FROM reconciliation_user_reports WHERE ${inRange}
    UNION ALL
    SELECT NULL, delta, action, COUNT(*) FROM reconciliation_user_reports
    WHERE ${inRange} AND NOT (delta = 0 AND action = 'ok') GROUP BY delta, action`.execute(trx);
  const groups = rows.rows.map((row) => ({ delta: Number(row.delta), action: row.action, lines: Number(row.lines) }));
  return { hashes: rows.rows.find((row) => row.hashes !== null)?.hashes ?? "", groups };
}

/**
 * The ranges of a fold, taken by up to two connections in any order and handed to
 * `onPage` strictly in range order (the digest is a stream). A range taken and not
 * folded is given back, so the owner of the transaction folds it.
 */
class RangesInOrder {
  #next = 0;
  readonly #givenBack: number[] = [];
  readonly #folded = new Map<number, RangePage>();
  #handed = 0;
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(
    readonly count: number,
    readonly onPage: (page: RangePage) => void,
  ) {}

  take(): number | undefined {
    if (this.#closed) return undefined;
    if (this.#givenBack.length > 0) return this.#givenBack.shift();
    return this.#next < this.count ? this.#next++ : undefined;
  }

  giveBack(index: number): void {
    this.#givenBack.push(index);
    this.#notify();
  }

  /** The fold failed: nothing more is taken, and nothing more handed to `onPage`. */
  close(): void {
    this.#closed = true;
  }

  deliver(index: number, page: RangePage): void {
    if (this.#closed) return;
    this.#folded.set(index, page);
    for (let ready = this.#folded.get(this.#handed); ready !== undefined; ready = this.#folded.get(this.#handed)) {
      this.#folded.delete(this.#handed);
      this.#handed += 1;
      this.onPage(ready);
    }
    this.#notify();
  }

  /** Folds ranges until every one is handed on, waiting for the other connection's when none is left to take. */
  async work(read: (index: number) => Promise<RangePage>): Promise<void> {
    while (this.#handed < this.count) {
      const index = this.take();
      if (index === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      this.deliver(index, await read(index));
      await yieldToRequests();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * Folds ranges on a connection of its own, in the snapshot the owner exported. Any
 * failure (no connection until the owner committed, so the snapshot is gone; an error
 * mid-range) ends its help and gives its range back; the owner folds the rest alone.
 */
async function helpInSnapshot(db: Kysely<Schema>, snapshot: string, ranges: RangesInOrder, read: (on: Kysely<Schema>, index: number) => Promise<RangePage>): Promise<void> {
  let taken: number | undefined;
  try {
    await db.transaction().setIsolationLevel("repeatable read").execute(async (trx) => {
      const engine = engineOf(trx);
      await engine.sharedSnapshots!.importSnapshot(trx, snapshot);
      await engine.readAlongIndexes(trx);
      for (taken = ranges.take(); taken !== undefined; taken = ranges.take()) {
        ranges.deliver(taken, await read(trx, taken));
        taken = undefined;
        await yieldToRequests();
      }
    });
  } catch {
    if (taken !== undefined) ranges.giveBack(taken);
  }
}

/** Whether ranges, in order, cover every user id once: from none, each after the last one's end, to none. */
export function partitionsUserIds(chunks: readonly { uid_after: string | null; uid_last: string | null }[]): boolean {
  if (chunks.length === 0) return false;
  return chunks.every((chunk, index) =>
    index === 0 ? chunk.uid_after === null : chunk.uid_after !== null && chunk.uid_after === chunks[index - 1]!.uid_last,
  ) && chunks[chunks.length - 1]!.uid_last === null;
}

/**
 * Finalize where queries run in this process (SQLite): each page of stored lines comes
 * back as one row, its hashes concatenated in user-id order by the database, and one row
 * per delta and action, instead of a row per line: 0.43–0.60 s of CPU became 0.22–0.26 s
 * for 200k lines (docs/decisions/reconciliation-reader-thread.md). Pages are keyset pages
 * along the primary key, a short synchronous read each, with a turn for live requests
 * in between, as `forEachLinePage`.
 */
async function foldStoredPages(db: Kysely<Schema>, runId: number, lines: LinesFold): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const page: RawBuilder<unknown> = sql`SELECT uid, line_hash, delta, action FROM reconciliation_user_reports
      WHERE run_id = ${runId} ${after === null ? sql`` : sql`AND uid > ${after}`} ORDER BY uid LIMIT ${PAGE_LINES}`;
    const head = await sql<{ hashes: string | null; n: number; last: string | null }>`
      SELECT group_concat(line_hash, '' ORDER BY uid) AS hashes, COUNT(*) AS n, MAX(uid) AS last FROM (${page})`.execute(db);
    const groups = await sql<{ delta: number; action: LineAction; lines: number }>`
      SELECT delta, action, COUNT(*) AS lines FROM (${page}) GROUP BY delta, action`.execute(db);
    const { hashes, n, last }: { hashes: string | null; n: number; last: string | null } = head.rows[0]!;
    lines.addPage(hashes ?? "", groups.rows.map((group) => ({ delta: Number(group.delta), action: group.action, lines: Number(group.lines) })));
    await yieldToRequests();
    if (Number(n) < PAGE_LINES) return;
    after = last;
  }
}

import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { readSweptUsers, type UidRange } from "./readSweptUsers.js";
import { lineHash, type ReportLine } from "./reportHashes.js";
import type { HashedLine } from "./writeLines.js";

/**
 * The `ok` lines of a slice, a column per field that varies: they cross between threads
 * as four arrays, where a thousand line objects cost 15 times as much to copy.
 */
export interface SettledColumns {
  uids: string[];
  points: number[];
  counts: number[];
  hashes: string[];
}

/** One slice of a chunk as the sweep saw it: the `ok` lines to write, hashed, and the users left to the heal. */
export interface ObservedSlice {
  /** Wallets read: fewer than asked means the range is exhausted. */
  seen: number;
  /** The last user id read, where the next slice starts. */
  lastUid: string | null;
  settled: SettledColumns;
  drifted: string[];
}

/** The `ok` line of a user whose wallet equals their `count` entries' sum, `points`. */
function okLine(uid: string, points: number, count: number): ReportLine {
  return { uid, walletPoints: points, ledgerSum: points, ledgerCount: count, delta: 0, action: "ok", adjustmentEntryId: null, reason: null, detail: null };
}

/** The lines to write from a slice's columns. */
export function okLinesOf(settled: SettledColumns): HashedLine[] {
  return settled.uids.map((uid, index) => ({ ...okLine(uid, settled.points[index]!, settled.counts[index]!), lineHash: settled.hashes[index]! }));
}

/** Where slices are read: in this thread on the shared connection, or on the sweep's reader thread (`SweepReaderThread`). */
export interface SliceSource {
  observe(range: UidRange, limit: number): Promise<ObservedSlice>;
}

/**
 * Reads the first `limit` wallets of `range` next to their entries (`readSweptUsers`, one
 * statement) and makes the `ok` line of each user in balance, hashed for `runDate`.
 */
export async function observeSlice(db: Kysely<Schema>, runDate: string, range: UidRange, limit: number): Promise<ObservedSlice> {
  const slice = await readSweptUsers(db, range, limit);
  const settled: SettledColumns = { uids: [], points: [], counts: [], hashes: [] };
  const drifted: string[] = [];
  for (const seen of slice) {
    if (!seen.settled) {
      drifted.push(seen.uid);
      continue;
    }
    settled.uids.push(seen.uid);
    settled.points.push(seen.points);
    settled.counts.push(seen.count);
    settled.hashes.push(lineHash(runDate, okLine(seen.uid, seen.points, seen.count)));
  }
  return { seen: slice.length, lastUid: slice.at(-1)?.uid ?? null, settled, drifted };
}

/** Slices read on `db`'s own connection, in this thread. */
export function inThreadSlices(db: Kysely<Schema>, runDate: string): SliceSource {
  return { observe: (range, limit) => observeSlice(db, runDate, range, limit) };
}

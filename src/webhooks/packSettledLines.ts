import type { SettledLinesWrite } from "../storage/SeparateWriter.js";

/**
 * A `SettledLinesWrite` as it crosses to the writer thread: the ids and hashes as one
 * JSON text each, the figures as typed arrays. Structured-cloning four arrays of a
 * thousand values held the main thread 0.3–0.5 ms a slice (a thousand slices a run at
 * 1M users); one string and two typed arrays cross in a tenth of that.
 */
export interface PackedSettledLines {
  runId: number;
  chunkNo: number;
  holder: string;
  uids: string;
  /** Exact: a settled user's points and count are within ±2^53 (`settledOn`). */
  points: Float64Array;
  counts: Float64Array;
  hashes: string;
}

export function packSettledLines(write: SettledLinesWrite): PackedSettledLines {
  return {
    runId: write.runId,
    chunkNo: write.chunkNo,
    holder: write.holder,
    uids: JSON.stringify(write.uids),
    points: Float64Array.from(write.points),
    counts: Float64Array.from(write.counts),
    hashes: JSON.stringify(write.hashes),
  };
}

export function unpackSettledLines(packed: PackedSettledLines): SettledLinesWrite {
  return {
    runId: packed.runId,
    chunkNo: packed.chunkNo,
    holder: packed.holder,
    uids: JSON.parse(packed.uids) as string[],
    points: Array.from(packed.points),
    counts: Array.from(packed.counts),
    hashes: JSON.parse(packed.hashes) as string[],
  };
}

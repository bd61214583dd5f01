import type { RangeToSweep, RangeWalked, SliceSwept, SliceToSweep } from "../storage/SeparateWriter.js";

/**
 * Walks a chunk's range a slice at a time through `sweep` (`sweepSlice`, on whichever
 * connection runs it), each slice starting after the last one's last user, and gathers
 * what the sweep fold needs: the `ok` lines' hashes in user-id order and each drifted
 * user's place among them. A slice answering `chunk_lost` stops the walk: nothing more
 * is written, and the answer says the chunk was not kept. `between` runs after each
 * slice but the last (a turn for live requests where this thread serves them).
 */
export async function walkSlices(range: RangeToSweep, sweep: (slice: SliceToSweep) => Promise<SliceSwept>, between: () => Promise<void>): Promise<RangeWalked> {
  const walked = { kept: true as const, usersChecked: 0, drifted: [] as string[], hashes: [] as string[], driftedAfter: [] as number[], complete: true };
  let after = range.after;
  for (;;) {
    const swept = await sweep({ runId: range.runId, date: range.date, chunkNo: range.chunkNo, holder: range.holder, after, last: range.last, limit: range.sliceUsers });
    if (swept.outcome === "chunk_lost") return { kept: false };
    const slice = swept.rows;
    if (slice.checked === 0) break;
    for (let index = 0; index < slice.drifted.length; index++) {
      walked.drifted.push(slice.drifted[index]!);
      walked.driftedAfter.push(walked.hashes.length + slice.driftedAt[index]!);
    }
    for (const hash of slice.hashes) walked.hashes.push(hash);
    walked.complete &&= slice.inserted === slice.hashes.length;
    walked.usersChecked += slice.checked;
    after = slice.lastUid;
    // A short slice, or a full one ending on the range's last user, leaves nothing to read.
    if (slice.checked < range.sliceUsers || after === range.last) break;
    await between();
  }
  return walked;
}

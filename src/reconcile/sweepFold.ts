import type { Chunk } from "./claimChunk.js";
import type { ReportLine } from "./reportHashes.js";
import { LinesFold, type LinesSummary } from "./summarizeLines.js";

/**
 * The `ok` lines a sweep wrote, as runs between its drifted users: `segments[i]` holds
 * the hashes (concatenated, in the database's user-id order) of the `ok` lines after
 * drifted user i - 1 and before drifted user i, so there is one more segment than
 * drifted users, and the drifted users' lines go between them.
 */
export interface SweptLines {
  segments: { hashes: string; lines: number }[];
  /** False when a line was already stored for one of the users (and kept instead). */
  complete: boolean;
}

/** Every line a chunk's sweep wrote: its `ok` lines and the lines of its drifted users, with their hashes. */
export interface ChunkLines extends SweptLines {
  /** The drifted users' lines and hashes, in user-id order: one fewer than `segments`. */
  healed: { lines: readonly ReportLine[]; hashes: readonly string[] };
}

/** Chunks swept ahead of one still being swept, held for the fold; past this many the fold gives up (finalize reads the lines back). */
const CHUNKS_AHEAD_MAX = 16;

/**
 * A run's totals and line digest folded while this process sweeps it, so that finalize
 * need not read every line back. The digest is the same stream of bytes finalize reads
 * (the line hashes in the database's user-id order): within a chunk the `ok` lines come
 * in runs in the order the database returned them, each drifted user's line between
 * the runs where the database put it, so no comparison of user ids in JavaScript decides
 * the order; chunks follow `chunk_no`, the order of their ranges. Several sweepers of
 * this process finish chunks out of order: a chunk that arrives early waits here for
 * those before it (at most `CHUNKS_AHEAD_MAX`).
 *
 * It holds only when this process wrote every line of the run: every chunk claimed
 * fresh (never claimed before, so nobody else wrote in its range), kept to the end
 * (its `done` mark still ours) and every line written as meant. Any other chunk (a
 * joined run, a stale claim taken over, a run resumed) makes `summary` answer null,
 * and finalize reads the stored lines as before.
 */
export class SweepFold {
  readonly #lines = new LinesFold();
  readonly #ahead = new Map<number, ChunkLines>();
  #nextChunk = 0;
  #holds = true;

  /** Folds one swept chunk, or holds it until the chunks before it are folded. */
  add(chunk: Pick<Chunk, "chunk_no"> & { firstClaim: boolean }, kept: boolean, lines: ChunkLines | null): void {
    if (!this.#holds) return;
    const early = chunk.chunk_no > this.#nextChunk;
    if (!chunk.firstClaim || !kept || chunk.chunk_no < this.#nextChunk || this.#ahead.has(chunk.chunk_no) || lines === null || !lines.complete) return this.#giveUp();
    if (early && this.#ahead.size >= CHUNKS_AHEAD_MAX) return this.#giveUp();
    this.#ahead.set(chunk.chunk_no, lines);
    for (let next = this.#ahead.get(this.#nextChunk); next !== undefined; next = this.#ahead.get(this.#nextChunk)) {
      this.#ahead.delete(this.#nextChunk);
      if (!this.#fold(next)) return this.#giveUp();
      this.#nextChunk += 1;
    }
  }

  /** The run's figures and digest, if this process wrote all `chunksTotal` chunks; null otherwise. */
  summary(chunksTotal: number): LinesSummary | null {
    return this.#holds && this.#nextChunk === chunksTotal ? this.#lines.summary() : null;
  }

  #giveUp(): void {
    this.#holds = false;
    this.#ahead.clear();
  }

  #fold(lines: ChunkLines): boolean {
    const { segments, healed } = lines;
    if (segments.length !== healed.lines.length + 1 || healed.hashes.length !== healed.lines.length) return false;
    for (const [index, segment] of segments.entries()) {
      if (segment.lines > 0) this.#lines.addPage(segment.hashes, [{ delta: 0, action: "ok", lines: segment.lines }]);
      if (index < healed.lines.length) this.#lines.add(healed.hashes[index]!, healed.lines[index]!);
    }
    return true;
  }
}

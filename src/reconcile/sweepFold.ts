import type { Chunk } from "./claimChunk.js";
import type { ReportLine } from "./reportHashes.js";
import { LinesFold, type LinesSummary } from "./summarizeLines.js";

/** The `ok` lines a sweep wrote itself, where the engine runs its queries in this process. */
export interface SweptLines {
  /** Their hashes, in the order the database returned the users (user-id order). */
  hashes: string[];
  /** For each drifted user, in the same order: how many `ok` lines come before it in the chunk. */
  driftedAfter: number[];
  /** False when a line was already stored for one of the users (and kept instead). */
  complete: boolean;
}

/** Every line a chunk's sweep wrote: its `ok` lines and the lines of its drifted users, with their hashes. */
export interface ChunkLines extends SweptLines {
  /** The drifted users' lines and hashes, in the order of `driftedAfter`. */
  healed: { lines: readonly ReportLine[]; hashes: readonly string[] };
}

/**
 * A run's totals and line digest folded while this process sweeps it, so that finalize
 * need not read every line back. The digest is the same stream of bytes finalize reads
 * (the line hashes in the database's user-id order): within a chunk the `ok` lines come
 * in the order the database returned them and each drifted user is put back where the
 * slice read it (`driftedAfter`), so no comparison of user ids in JavaScript decides
 * the order; chunks follow `chunk_no`, the order of their ranges.
 *
 * It holds only when this process wrote every line of the run: every chunk claimed
 * fresh (never claimed before, so nobody else wrote in its range), in chunk order,
 * kept to the end (its `done` mark still ours) and every line written as meant. Any
 * other chunk (a joined run, a stale claim taken over, a run resumed) makes `summary`
 * answer null, and finalize reads the stored lines as before.
 */
export class SweepFold {
  readonly #lines = new LinesFold();
  #nextChunk = 0;
  #holds = true;

  /** Folds one swept chunk; `lines` is null where the engine wrote them in SQL. */
  add(chunk: Pick<Chunk, "chunk_no"> & { firstClaim: boolean }, kept: boolean, lines: ChunkLines | null): void {
    if (!this.#holds) return;
    if (!chunk.firstClaim || !kept || chunk.chunk_no !== this.#nextChunk || lines === null || !lines.complete || !this.#fold(lines)) {
      this.#holds = false;
      return;
    }
    this.#nextChunk += 1;
  }

  /** The run's figures and digest, if this process wrote all `chunksTotal` chunks; null otherwise. */
  summary(chunksTotal: number): LinesSummary | null {
    return this.#holds && this.#nextChunk === chunksTotal ? this.#lines.summary() : null;
  }

  #fold(lines: ChunkLines): boolean {
    const { hashes, driftedAfter, healed } = lines;
    if (healed.lines.length !== driftedAfter.length || healed.hashes.length !== driftedAfter.length) return false;
    let okFolded = 0;
    const foldOk = (until: number) => {
      if (until > okFolded) this.#lines.addPage(hashes.slice(okFolded, until).join(""), [{ delta: 0, action: "ok", lines: until - okFolded }]);
      okFolded = until;
    };
    for (let index = 0; index < driftedAfter.length; index++) {
      const after = driftedAfter[index]!;
      if (after < okFolded || after > hashes.length) return false;
      foldOk(after);
      this.#lines.add(healed.hashes[index]!, healed.lines[index]!);
    }
    foldOk(hashes.length);
    return true;
  }
}

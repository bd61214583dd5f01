import type { SliceSwept } from "../storage/SeparateWriter.js";

/** Hex characters of one line hash (SHA-256). */
const HASH_CHARS = 64;

/**
 * A `SliceSwept` as it crosses back from the writer thread: the `ok` lines' hashes,
 * a thousand a slice, as one text (each is 64 hex characters), since structured-cloning
 * an array of a thousand strings costs the receiving thread ten times as much as one
 * string (`packSettledLines.ts`).
 */
export type PackedSliceSwept = Exclude<SliceSwept, { outcome: "swept" }> | { outcome: "swept"; rows: Omit<Extract<SliceSwept, { outcome: "swept" }>["rows"], "hashes"> & { hashes: string } };

export function packSweptSlice(swept: SliceSwept): PackedSliceSwept {
  if (swept.outcome !== "swept") return swept;
  for (const hash of swept.rows.hashes) if (hash.length !== HASH_CHARS) throw new Error(`a line hash of ${hash.length} characters`);
  return { outcome: "swept", rows: { ...swept.rows, hashes: swept.rows.hashes.join("") } };
}

export function unpackSweptSlice(packed: PackedSliceSwept): SliceSwept {
  if (packed.outcome !== "swept") return packed;
  const joined = packed.rows.hashes;
  const hashes = new Array<string>(joined.length / HASH_CHARS);
  for (let index = 0; index < hashes.length; index++) hashes[index] = joined.slice(index * HASH_CHARS, (index + 1) * HASH_CHARS);
  return { outcome: "swept", rows: { ...packed.rows, hashes } };
}

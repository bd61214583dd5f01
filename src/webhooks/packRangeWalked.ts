import type { RangeWalked } from "../storage/SeparateWriter.js";

/** Hex characters of one line hash (SHA-256). */
const HASH_CHARS = 64;

/**
 * A `RangeWalked` as it crosses back from the writer thread: the `ok` lines' hashes,
 * thousands a chunk, as one text (each is 64 hex characters), since structured-cloning
 * an array of a thousand strings costs the receiving thread ten times as much as one
 * string (`packSettledLines.ts`).
 */
export type PackedRangeWalked = Exclude<RangeWalked, { kept: true }> | (Omit<Extract<RangeWalked, { kept: true }>, "hashes"> & { hashes: string });

export function packRangeWalked(walked: RangeWalked): PackedRangeWalked {
  if (!walked.kept) return walked;
  for (const hash of walked.hashes) if (hash.length !== HASH_CHARS) throw new Error(`a line hash of ${hash.length} characters`);
  return { ...walked, hashes: walked.hashes.join("") };
}

export function unpackRangeWalked(packed: PackedRangeWalked): RangeWalked {
  if (!packed.kept) return packed;
  const joined = packed.hashes;
  const hashes = new Array<string>(joined.length / HASH_CHARS);
  for (let index = 0; index < hashes.length; index++) hashes[index] = joined.slice(index * HASH_CHARS, (index + 1) * HASH_CHARS);
  return { ...packed, hashes };
}

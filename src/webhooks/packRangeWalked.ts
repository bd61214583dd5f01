import type { RangeWalked } from "../storage/SeparateWriter.js";

/**
 * A `RangeWalked` as it crosses back from the writer thread: the `ok` lines' hashes,
 * thousands a chunk, as one text (each is 64 hex characters), since structured-cloning
 * an array of a thousand strings costs the receiving thread ten times as much as one
 * string. Joined by commas: a hash is hex, and one stored by
 * another writer is whatever its column holds, so no fixed width is assumed.
 */
export type PackedRangeWalked = Exclude<RangeWalked, { kept: true }> | (Omit<Extract<RangeWalked, { kept: true }>, "hashes"> & { hashes: string });

export function packRangeWalked(walked: RangeWalked): PackedRangeWalked {
  if (!walked.kept) return walked;
  for (const hash of walked.hashes) if (hash.length === 0 || hash.includes(",")) throw new Error(`a line hash that is empty or holds a comma: ${JSON.stringify(hash)}`);
  return { ...walked, hashes: walked.hashes.join(",") };
}

export function unpackRangeWalked(packed: PackedRangeWalked): RangeWalked {
  if (!packed.kept) return packed;
  return { ...packed, hashes: packed.hashes === "" ? [] : packed.hashes.split(",") };
}

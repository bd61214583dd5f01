import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packSettledLines, unpackSettledLines } from "./packSettledLines.js";

describe("a chunk's ok lines packed for the writer thread", () => {
  it("unpack to the same write, whatever the user ids, hashes and exact figures", () => {
    const line = fc.record({
      // Any UTF-16 text, lone surrogates included: a stored id is whatever the column holds.
      uid: fc.string({ unit: "binary", maxLength: 12 }),
      points: fc.maxSafeInteger().map((value) => (value % 2 === 0 ? value : -value)),
      count: fc.nat(),
      hash: fc.string({ unit: "grapheme-ascii", minLength: 64, maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 50 }), fc.nat(), fc.nat(), fc.string(), (lines, runId, chunkNo, holder) => {
        const write = {
          runId,
          chunkNo,
          holder,
          uids: lines.map((one) => one.uid),
          points: lines.map((one) => one.points),
          counts: lines.map((one) => one.count),
          hashes: lines.map((one) => one.hash),
        };
        // Through a structured clone, as postMessage sends it.
        expect(unpackSettledLines(structuredClone(packSettledLines(write)))).toEqual(write);
      }),
    );
  });

  it("keeps figures at the edge of the exact range exact", () => {
    const write = { runId: 1, chunkNo: 0, holder: "h", uids: ["a", "b"], points: [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], counts: [2 ** 31, 0], hashes: ["f".repeat(64), "0".repeat(64)] };
    expect(unpackSettledLines(packSettledLines(write))).toEqual(write);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packSettledLines, packWritten, unpackSettledLines, unpackWritten } from "./packSettledLines.js";

describe("a chunk's ok lines packed for the writer thread", () => {
  it("unpack to the same write, whatever the user ids, hashes and exact figures", () => {
    const line = fc.record({
      // Any UTF-16 text, lone surrogates included: a stored id is whatever the column holds.
      uid: fc.string({ unit: "binary", maxLength: 12 }),
      points: fc.maxSafeInteger().map((value) => (value % 2 === 0 ? value : -value)),
      count: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 50 }), fc.nat(), fc.nat(), fc.string(), (lines, runId, chunkNo, holder) => {
        const write = {
          runId,
          date: "2026-10-02",
          chunkNo,
          holder,
          uids: lines.map((one) => one.uid),
          points: lines.map((one) => one.points),
          counts: lines.map((one) => one.count),
        };
        // Through a structured clone, as postMessage sends it.
        expect(unpackSettledLines(structuredClone(packSettledLines(write)))).toEqual(write);
      }),
    );
  });

  it("keeps figures at the edge of the exact range exact", () => {
    const write = { runId: 1, date: "2026-10-02", chunkNo: 0, holder: "h", uids: ["a", "b"], points: [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], counts: [2 ** 31, 0] };
    expect(unpackSettledLines(packSettledLines(write))).toEqual(write);
  });

  it("answers come back with the same hashes, and the other outcomes as they are", () => {
    const written = { outcome: "written" as const, rows: 2, hashes: ["f".repeat(64), "0".repeat(64)] };
    expect(unpackWritten(structuredClone(packWritten(written)))).toEqual(written);
    expect(unpackWritten(packWritten({ outcome: "chunk_lost" }))).toEqual({ outcome: "chunk_lost" });
  });
});

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "./reportHashes.js";
import { LinesFold } from "./summarizeLines.js";
import { SweepFold, type ChunkLines } from "./sweepFold.js";

const hashOf = (text: string) => createHash("sha256").update(text).digest("hex");

/** A chunk as a sweep hands it over: `ok` runs between drifted users, and the drifted users' lines. */
const chunkArb = fc.array(fc.tuple(fc.nat(3), fc.integer({ min: -50, max: 50 })), { maxLength: 4 }).chain((drifted) =>
  fc.nat(3).map((lastRun) => ({ drifted, lastRun })),
);

function chunkLines(chunkNo: number, shape: { drifted: [number, number][]; lastRun: number }): { lines: ChunkLines; flat: { hash: string; line: Pick<ReportLine, "delta" | "action"> }[] } {
  const flat: { hash: string; line: Pick<ReportLine, "delta" | "action"> }[] = [];
  const segments: ChunkLines["segments"] = [];
  const healed = { lines: [] as ReportLine[], hashes: [] as string[] };
  let n = 0;
  const run = (count: number) => {
    const hashes: string[] = [];
    for (let index = 0; index < count; index++) hashes.push(hashOf(`c${chunkNo}-ok${n++}`));
    for (const hash of hashes) flat.push({ hash, line: { delta: 0, action: "ok" } });
    segments.push({ hashes: hashes.join(""), lines: count });
  };
  for (const [before, delta] of shape.drifted) {
    run(before);
    const line: ReportLine = { uid: `c${chunkNo}-d${n}`, walletPoints: delta, ledgerSum: 0, ledgerCount: 0, delta, action: delta === 0 ? "ok" : "adjusted", adjustmentEntryId: null, reason: null, detail: null };
    const hash = hashOf(`c${chunkNo}-drift${n++}`);
    healed.lines.push(line);
    healed.hashes.push(hash);
    flat.push({ hash, line });
  }
  run(shape.lastRun);
  return { lines: { segments, complete: true, healed }, flat };
}

describe("SweepFold takes chunks in any order from several sweepers", () => {
  it("folds chunks finished out of order into the digest and figures of reading every line in order", () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { minLength: 1, maxLength: 12 }).chain((shapes) => fc.shuffledSubarray(shapes.map((_, index) => index), { minLength: shapes.length }).map((order) => ({ shapes, order }))), ({ shapes, order }) => {
        const chunks = shapes.map((shape, index) => chunkLines(index, shape));
        const expected = new LinesFold();
        for (const chunk of chunks) for (const { hash, line } of chunk.flat) expected.add(hash, line);
        const fold = new SweepFold();
        for (const index of order) fold.add({ chunk_no: index, firstClaim: true }, true, chunks[index]!.lines);
        expect(fold.summary(shapes.length)).toEqual(expected.summary());
      }),
      { numRuns: 200 },
    );
  });

  it("gives up (finalize reads the lines back) when a chunk is missing, repeated, stale or too far ahead", () => {
    const lines = (index: number) => chunkLines(index, { drifted: [[1, 3]], lastRun: 1 }).lines;
    const missing = new SweepFold();
    missing.add({ chunk_no: 1, firstClaim: true }, true, lines(1));
    expect(missing.summary(2)).toBeNull();
    const repeated = new SweepFold();
    for (const index of [0, 0, 1]) repeated.add({ chunk_no: index, firstClaim: true }, true, lines(index));
    expect(repeated.summary(2)).toBeNull();
    const takenOver = new SweepFold();
    takenOver.add({ chunk_no: 1, firstClaim: false }, true, lines(1));
    takenOver.add({ chunk_no: 0, firstClaim: true }, true, lines(0));
    expect(takenOver.summary(2)).toBeNull();
    const farAhead = new SweepFold();
    for (let index = 1; index <= 17; index++) farAhead.add({ chunk_no: index, firstClaim: true }, true, lines(index));
    farAhead.add({ chunk_no: 0, firstClaim: true }, true, lines(0));
    expect(farAhead.summary(18)).toBeNull();
    const justAhead = new SweepFold();
    for (let index = 1; index <= 16; index++) justAhead.add({ chunk_no: index, firstClaim: true }, true, lines(index));
    justAhead.add({ chunk_no: 0, firstClaim: true }, true, lines(0));
    expect(justAhead.summary(17)).not.toBeNull();
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RangeWalked } from "../storage/SeparateWriter.js";
import { packRangeWalked, unpackRangeWalked } from "./packRangeWalked.js";

describe("a walked range packed for the way back from the writer thread", () => {
  it("unpacks to the same answer through structuredClone, whatever the ids and however many hashes", () => {
    // SHA-256 hex, or what another writer stored: any text but empty or holding a comma.
    const hash = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ minLength: 1, maxLength: 8 }).filter((text) => !text.includes(",")));
    const walked: fc.Arbitrary<RangeWalked> = fc.oneof(
      fc.constant({ kept: false as const }),
      fc.record({
        kept: fc.constant(true as const),
        usersChecked: fc.nat(),
        drifted: fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { maxLength: 5 }),
        hashes: fc.array(hash, { maxLength: 40 }),
        driftedAfter: fc.array(fc.nat(), { maxLength: 5 }),
        complete: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(walked, (answer) => {
        expect(unpackRangeWalked(structuredClone(packRangeWalked(answer)))).toEqual(answer);
      }),
    );
  });

  it("refuses a hash that would not come back as itself (empty, or holding the separator)", () => {
    for (const hash of ["", "a,b"]) {
      expect(() => packRangeWalked({ kept: true, usersChecked: 1, drifted: [], hashes: [hash], driftedAfter: [], complete: true })).toThrow(/empty or holds a comma/);
    }
  });
});

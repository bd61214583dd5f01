import fc from "fast-check";
import { expect, it } from "vitest";
import { refundedPoints } from "./refundedPoints.js";

it("rounds the refunded share of points down", () => {
  expect(refundedPoints(50, 300, 100)).toBe(16);
  expect(refundedPoints(50, 300, 200)).toBe(33);
  expect(refundedPoints(50, 300, 300)).toBe(50);
  expect(refundedPoints(50, 500, 1)).toBe(0);
});

it("a refund of more than was paid reverses the purchase, never more", () => {
  expect(refundedPoints(50, 500, 900)).toBe(50);
});

it("a free purchase refunded reverses all its points", () => {
  expect(refundedPoints(50, 0, 0)).toBe(50);
});

it("stays exact for points and amounts far beyond 2^53 when multiplied", () => {
  expect(refundedPoints(1_000_000_000_000, 9_007_199_254_740_991, 4_503_599_627_370_495)).toBe(499_999_999_999);
});

it("any sequence of partial refunds reverses at most the purchase, and exactly it once fully refunded", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 1, max: 100_000 }),
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 20 }),
      (points, paid, refunds) => {
        let refunded = 0;
        let reversed = 0;
        for (const minor of refunds) {
          const step = refundedPoints(points, paid, refunded + minor) - reversed;
          expect(step).toBeGreaterThanOrEqual(0);
          reversed += step;
          refunded += minor;
        }
        expect(reversed).toBeLessThanOrEqual(points);
        if (refunded >= paid) expect(reversed).toBe(points);
      },
    ),
  );
});

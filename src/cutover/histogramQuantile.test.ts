import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { histogramQuantile } from "./histogramQuantile.js";
import { bucketsOf, readExposition } from "./readExposition.js";

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What prom-client exports for these observations, read back as verify reads it. */
async function exported(observations: { provider: string; seconds: number }[]) {
  const registry = new Registry();
  const histogram = new Histogram({ name: "ack_seconds", help: "h", labelNames: ["provider"], buckets: BOUNDS, registers: [registry] });
  for (const { provider, seconds } of observations) histogram.observe({ provider }, seconds);
  return bucketsOf(readExposition(await registry.metrics()).samples, "ack_seconds");
}

describe("the ACK p99 verify computes from /metrics", () => {
  it("lies in the bucket holding the rank-th smallest observation, summed over every provider (an independent model)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ provider: fc.constantFrom("paynow", "stripe"), ms: fc.integer({ min: 0, max: 4000 }) }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.9, 0.99),
        async (observed, quantile) => {
          const buckets = await exported(observed.map((o) => ({ provider: o.provider, seconds: o.ms / 1000 })));
          const result = histogramQuantile(quantile, buckets)!;
          const sorted = observed.map((o) => o.ms / 1000).sort((a, b) => a - b);
          const value = sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)]!;
          const upperIndex = BOUNDS.findIndex((bound) => value <= bound);
          if (upperIndex === -1) {
            expect(result).toBe(BOUNDS.at(-1));
            return;
          }
          const lower = upperIndex === 0 ? 0 : BOUNDS[upperIndex - 1]!;
          expect(result).toBeGreaterThanOrEqual(lower);
          expect(result).toBeLessThanOrEqual(BOUNDS[upperIndex]!);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("interpolates inside a bucket as Prometheus does, and knows nothing without observations", () => {
    // 100 observations: 90 up to 0.1 s, 10 in (0.1, 0.25]: rank 99 is 9/10 into the second bucket.
    expect(histogramQuantile(0.99, [{ le: 0.1, count: 90 }, { le: 0.25, count: 100 }, { le: Infinity, count: 100 }])).toBeCloseTo(0.235, 10);
    expect(histogramQuantile(0.99, [{ le: 0.1, count: 0 }, { le: Infinity, count: 0 }])).toBeNull();
    expect(histogramQuantile(0.5, [{ le: 0.1, count: 3 }])).toBeNull();
  });
});

/** One cumulative bucket of a Prometheus histogram: observations `<= le`. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * Prometheus's `histogram_quantile`: the bucket the quantile's rank falls in, and a
 * linear interpolation inside it (from 0 for the first bucket). A rank in the `+Inf`
 * bucket answers the highest finite bound, as Prometheus does. Null without observations.
 */
export function histogramQuantile(quantile: number, buckets: readonly Bucket[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0 || sorted.at(-1)!.le !== Infinity) return null;
  const rank = quantile * total;
  let lower = 0;
  let below = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + (bucket.le - lower) * ((rank - below) / inBucket);
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

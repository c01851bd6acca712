// Summary statistics for benchmark samples. Percentiles use the nearest-rank method (the value of
// the ceil(p/100 * n)-th smallest sample): every reported figure is a latency that really happened,
// never an interpolation between two trials, and p99 of fewer than 100 samples is honestly the max.

export interface Summary {
  n: number;
  min: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of already sorted values (ascending); NaN for no values. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n,
    min: n ? (sorted[0] as number) : NaN,
    mean: n ? sum / n : NaN,
    median: percentileSorted(sorted, 50),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    max: n ? (sorted[n - 1] as number) : NaN,
  };
}

/** A figure for a table: fixed decimals, "n/a" when there was nothing to measure. */
export function fmt(v: number | null | undefined, decimals = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(decimals);
}

/**
 * How many [start, end) spans (engine nanoseconds) are in progress at once: the time-weighted mean
 * over the first start .. the last end, and the maximum. E.g. restarts between their kill and restart
 * events: with parallelism 8 a mean near 8 means the slots were kept busy.
 */
export function overlap(spans: readonly (readonly [bigint, bigint])[]): { meanInFlight: number; maxInFlight: number } {
  if (!spans.length) return { meanInFlight: 0, maxInFlight: 0 };
  // Ends sort before starts at the same instant: back-to-back spans do not overlap.
  const edges = spans.flatMap(([a, b]) => [{ t: a, d: 1 }, { t: b, d: -1 }]).sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : x.d - y.d));
  let now = 0;
  let max = 0;
  for (const e of edges) {
    now += e.d;
    max = Math.max(max, now);
  }
  const busy = spans.reduce((sum, [a, b]) => sum + (b - a), 0n);
  const window = (edges[edges.length - 1] as { t: bigint }).t - (edges[0] as { t: bigint }).t;
  const mean = window > 0n ? Number(busy) / Number(window) : 0;
  return { meanInFlight: Math.round(mean * 10) / 10, maxInFlight: max };
}

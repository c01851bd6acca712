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

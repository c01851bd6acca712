// Pure statistics used by the benchmarks (`node --test dist/bench/lib/stats.test.js`, or
// `bash bench/run.sh selftest`). Benchmarks themselves carry no thresholds; this only checks the maths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmt, overlap, percentileSorted, summarize } from './stats.js';

test('nearest-rank percentiles pick real samples', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentileSorted(v, 50), 50);
  assert.equal(percentileSorted(v, 95), 95);
  assert.equal(percentileSorted(v, 99), 99);
  assert.equal(percentileSorted(v, 100), 100);
  assert.equal(percentileSorted(v, 0), 1);
});

test('p99 of fewer than 100 samples is the maximum', () => {
  const v = Array.from({ length: 60 }, (_, i) => i * 2);
  assert.equal(percentileSorted(v, 99), 118);
  assert.equal(percentileSorted(v, 95), 112); // ceil(57) = 57th smallest = 56*2
});

test('summarize sorts, ignores non-finite values and handles the empty case', () => {
  const s = summarize([5, 1, NaN, 3, Infinity, 2, 4]);
  assert.deepEqual(s, { n: 5, min: 1, mean: 3, median: 3, p95: 5, p99: 5, max: 5 });
  const e = summarize([]);
  assert.equal(e.n, 0);
  assert.ok(Number.isNaN(e.median) && Number.isNaN(e.max) && Number.isNaN(e.mean));
});

test('a single sample is every percentile', () => {
  assert.deepEqual(summarize([7]), { n: 1, min: 7, mean: 7, median: 7, p95: 7, p99: 7, max: 7 });
});

test('percentile outside 0..100 is a programming error', () => {
  assert.throws(() => percentileSorted([1, 2], 101), RangeError);
  assert.throws(() => percentileSorted([1, 2], -1), RangeError);
});

test('fmt', () => {
  assert.equal(fmt(1.234), '1.2');
  assert.equal(fmt(1.234, 2), '1.23');
  assert.equal(fmt(NaN), 'n/a');
  assert.equal(fmt(null), 'n/a');
});

test('overlap: mean and max of spans in progress', () => {
  assert.deepEqual(overlap([]), { meanInFlight: 0, maxInFlight: 0 });
  // Two spans side by side for the whole window, then one alone: busy 30 over a window of 20.
  assert.deepEqual(overlap([[0n, 10n], [0n, 10n], [10n, 20n]]), { meanInFlight: 1.5, maxInFlight: 2 });
  // Back to back is not overlapping.
  assert.deepEqual(overlap([[0n, 5n], [5n, 10n]]), { meanInFlight: 1, maxInFlight: 1 });
  assert.deepEqual(overlap([[0n, 10n], [2n, 4n], [3n, 5n]]), { meanInFlight: 1.4, maxInFlight: 3 });
});

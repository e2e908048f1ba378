// The loop-delay histogram: cumulative buckets, `le` inclusive, quantiles read back from two scrapes the way
// PromQL's histogram_quantile does, and the sampler catching a real stall of this process's loop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bucketDelta,
  bucketMax,
  bucketQuantile,
  LOOP_DELAY_BOUNDS_S,
  LoopDelayHistogram,
  parseBuckets,
  sampleLoopDelay,
} from './loop-delay.js';

const counts = (h: LoopDelayHistogram) => ({
  bounds: [...h.bounds],
  cumulative: h.cumulative(),
  sum: h.sum,
  count: h.count,
});

test('buckets are cumulative, a value on a bound counts in that bound, negatives count as 0', () => {
  const h = new LoopDelayHistogram([0.001, 0.01, 0.1]);
  for (const v of [-0.002, 0, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.5, 7]) h.observe(v);
  assert.deepEqual(h.cumulative(), [3, 5, 7, 9]);
  assert.equal(h.count, 9);
  assert.ok(Math.abs(h.sum - (0.001 + 0.0011 + 0.01 + 0.05 + 0.1 + 0.5 + 7)) < 1e-12);
  assert.throws(() => new LoopDelayHistogram([0.01, 0.01]), /increase/);
});

test('the default bounds go from 1 ms to 5 s, increasing', () => {
  assert.equal(LOOP_DELAY_BOUNDS_S[0], 0.001);
  assert.equal(LOOP_DELAY_BOUNDS_S[LOOP_DELAY_BOUNDS_S.length - 1], 5);
  for (let i = 1; i < LOOP_DELAY_BOUNDS_S.length; i++)
    assert.ok(LOOP_DELAY_BOUNDS_S[i]! > LOOP_DELAY_BOUNDS_S[i - 1]!);
});

test('quantiles and max of a window come from the difference of two readings, as histogram_quantile gives them', () => {
  const h = new LoopDelayHistogram([0.01, 0.02, 0.05, 0.1]);
  // Start-up: one long stall the window must not see.
  h.observe(3);
  const before = counts(h);
  for (let i = 0; i < 90; i++) h.observe(0.005);
  for (let i = 0; i < 10; i++) h.observe(0.03);
  const after = counts(h);
  const w = bucketDelta(after, before);
  assert.deepEqual(w.cumulative, [90, 90, 100, 100, 100]);
  assert.equal(w.count, 100);
  assert.ok(Math.abs(w.sum - (90 * 0.005 + 10 * 0.03)) < 1e-9);
  // p50: rank 50 of 90 in (0, 0.01] → 0.01 × 50/90; p99: rank 99, 9th of 10 in (0.02, 0.05].
  assert.ok(Math.abs(bucketQuantile(w, 0.5)! - (0.01 * 50) / 90) < 1e-12);
  assert.ok(Math.abs(bucketQuantile(w, 0.99)! - (0.02 + 0.03 * 0.9)) < 1e-12);
  assert.deepEqual(bucketMax(w), [0.02, 0.05]);
  // The whole run has the stall: its max is in +Inf, and a quantile there reads as the highest finite bound.
  assert.deepEqual(bucketMax(after), [0.1, Number.POSITIVE_INFINITY]);
  assert.equal(bucketQuantile(after, 1), 0.1);
  // Nothing observed: no figure.
  assert.equal(bucketQuantile(bucketDelta(after, after), 0.99), null);
  assert.equal(bucketMax(bucketDelta(after, after)), null);
  // Counts that went down mean another process (a restart): refused, not read as a window.
  assert.throws(() => bucketDelta(before, after), /restart/);
});

test('parseBuckets reads the exposition back, in bound order', () => {
  const text = [
    '# HELP x_seconds x',
    '# TYPE x_seconds histogram',
    'x_seconds_bucket{le="0.01"} 4',
    'x_seconds_bucket{le="0.1"} 6',
    'x_seconds_bucket{le="+Inf"} 7',
    'x_seconds_sum 1.25',
    'x_seconds_count 7',
    'x_seconds_other 3',
    '',
  ].join('\n');
  assert.deepEqual(parseBuckets(text, 'x_seconds'), {
    bounds: [0.01, 0.1],
    cumulative: [4, 6, 7],
    sum: 1.25,
    count: 7,
  });
  assert.equal(parseBuckets(text, 'y_seconds'), null);
});

test('the sampler records a 120 ms block of this loop in (0.1, 0.2], and ticks of an idle loop as short', async () => {
  const h = new LoopDelayHistogram();
  const stop = sampleLoopDelay(h, 10);
  try {
    await new Promise((r) => setTimeout(r, 200));
    const idle = counts(h);
    assert.ok(idle.count >= 5, `ticks while idle: ${idle.count}`);
    // The 10 ms period is not counted as delay: an idle loop has ticks within 5 ms of it.
    assert.ok(idle.cumulative[idle.bounds.indexOf(0.005)]! >= 1, `idle: ${JSON.stringify(idle.cumulative)}`);
    const t = performance.now();
    while (performance.now() - t < 120) {
      // busy-wait: the loop is blocked
    }
    await new Promise((r) => setTimeout(r, 50));
    const w = bucketDelta(counts(h), idle);
    const le = (b: number) => w.cumulative[w.bounds.indexOf(b)]!;
    assert.ok(w.count >= 2, `ticks after the block: ${w.count}`);
    assert.ok(le(0.2) - le(0.1) >= 1, `the block in (0.1, 0.2]: ${JSON.stringify(w.cumulative)}`);
    assert.ok(w.sum >= 0.1, `sum ${w.sum}`);
  } finally {
    stop();
  }
});

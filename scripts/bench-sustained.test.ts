// The sustained bench's loop delay over its measured window: the difference of two scrapes of the histogram,
// with the API-load phase taken out when it falls inside the window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopDelayHistogram } from '../lib/loop-delay.js';
import { parseMetrics, type Scrape, steadyLoopDelay } from './bench-sustained.js';

/** A scrape of `h` as /metrics exposes it, answered at `at` ms. */
function scrape(h: LoopDelayHistogram, at: number): Scrape {
  const c = h.cumulative();
  const lines = [
    '# TYPE rigtel_event_loop_delay_seconds histogram',
    ...h.bounds.map((le, i) => `rigtel_event_loop_delay_seconds_bucket{le="${le}"} ${c[i]}`),
    `rigtel_event_loop_delay_seconds_bucket{le="+Inf"} ${h.count}`,
    `rigtel_event_loop_delay_seconds_sum ${h.sum}`,
    `rigtel_event_loop_delay_seconds_count ${h.count}`,
    'rigtel_event_loop_delay_since_start_seconds{quantile="1"} 3.01',
    'rigtel_polls_due_total 7',
  ];
  return { ...parseMetrics(lines.join('\n')), at };
}

const ticks = (h: LoopDelayHistogram, n: number, s: number) => {
  for (let i = 0; i < n; i++) h.observe(s);
};

test('the window is last − first, less the API-load phase inside it; start-up and the load do not show', () => {
  const h = new LoopDelayHistogram();
  ticks(h, 1, 3); // start-up stall
  const first = scrape(h, 10_000);
  ticks(h, 990, 0.0005);
  ticks(h, 10, 0.03);
  const before = scrape(h, 20_000);
  ticks(h, 500, 0.4); // the API load
  const after = scrape(h, 30_000);
  ticks(h, 1000, 0.0005);
  const last = scrape(h, 50_000);
  assert.equal(first.loop['rigtel_polls_due_total'], undefined);
  assert.equal(first.counters['rigtel_polls_due_total'], 7);
  const w = steadyLoopDelay(first, last, { before, after })!;
  assert.equal(w.window_s, 30);
  assert.equal(w.api_load_removed_s, 10);
  assert.equal(w.ticks, 2000);
  assert.deepEqual(w.max_bucket, [0.02, 0.05]);
  // Rank 1980 of 2000: the 1,990 ticks ≤ 1 ms cover it.
  assert.ok(w.p99! <= 0.001, `p99 ${w.p99}`);
  // Without taking the load out, its 0.4 s ticks are the p99 and the max.
  const all = steadyLoopDelay(first, last, null)!;
  assert.equal(all.api_load_removed_s, 0);
  assert.deepEqual(all.max_bucket, [0.2, 0.5]);
  assert.ok(all.p99! > 0.2, `p99 with the load ${all.p99}`);
  // A window that closed before the load started keeps what it has.
  const early = steadyLoopDelay(first, before, { before, after })!;
  assert.equal(early.api_load_removed_s, 0);
  assert.equal(early.ticks, 1000);
  // A stall beyond the last bound: the max's bucket has no upper bound.
  ticks(h, 1, 9);
  assert.deepEqual(steadyLoopDelay(after, scrape(h, 60_000), null)!.max_bucket, [5, null]);
  // A collector without the histogram (an older build): no steady figure.
  assert.equal(steadyLoopDelay({ ...first, loopBuckets: null }, last, null), null);
});

/**
 * Event-loop delay as a cumulative histogram, the shape Prometheus can turn into "p99 over the last 5 minutes"
 * (`histogram_quantile(0.99, rate(rigtel_event_loop_delay_seconds_bucket[5m]))`), and the arithmetic to read a
 * quantile back from two scrapes of its buckets.
 *
 * The delay is sampled by a timer of its own rather than by draining `perf_hooks.monitorEventLoopDelay`: that
 * monitor records the whole timer period (an idle loop at resolution 10 ms reads ~10.1 ms), its counts can only
 * be read back through percentile queries, and its `reset()` forgets the previous tick, so the period spanning a
 * drain is never recorded (a 300 ms stall right after `reset()` does not show at all on Node 20). The sampler
 * here records, every tick, how late the tick ran beyond its period; every tick lands in exactly one bucket.
 */

/** Upper bounds of the buckets, seconds (+Inf is implied): 1 ms to 5 s, roughly 1-2-5. */
export const LOOP_DELAY_BOUNDS_S: readonly number[] = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5,
];

/** Sampling period of the loop-delay timer, ms (the same resolution the since-start monitor uses). */
export const LOOP_DELAY_RESOLUTION_MS = 10;

export class LoopDelayHistogram {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = LOOP_DELAY_BOUNDS_S) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error('loop-delay bounds must increase');
    }
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** One delay, seconds. A bucket holds the values ≤ its bound (Prometheus `le`). */
  observe(seconds: number): void {
    const v = Math.max(seconds, 0);
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** Cumulative counts per bound, then +Inf (equal to `count`). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const n of this.counts) {
      acc += n;
      out.push(acc);
    }
    return out;
  }
}

/**
 * Starts sampling the event loop into `hist`: a timer every `resolutionMs` records how much later than its
 * period it ran. Unref'd (it never keeps the process alive); returns the function that stops it.
 */
export function sampleLoopDelay(
  hist: LoopDelayHistogram,
  resolutionMs = LOOP_DELAY_RESOLUTION_MS,
): () => void {
  let prev = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    hist.observe((now - prev - resolutionMs) / 1000);
    prev = now;
  }, resolutionMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A histogram read from an exposition: bounds (without +Inf), cumulative counts (with +Inf last), sum, count. */
export interface BucketCounts {
  bounds: number[];
  cumulative: number[];
  sum: number;
  count: number;
}

/**
 * The histogram of what happened between two scrapes of the same process (`later − earlier`, bucket by bucket).
 * Throws if the bounds differ or a count went down (a restart between the scrapes).
 */
export function bucketDelta(later: BucketCounts, earlier: BucketCounts): BucketCounts {
  if (later.bounds.join() !== earlier.bounds.join()) throw new Error('loop-delay buckets differ');
  const cumulative = later.cumulative.map((n, i) => n - earlier.cumulative[i]!);
  if (cumulative.some((n) => n < 0)) throw new Error('loop-delay counts went down (restart?)');
  return {
    bounds: later.bounds,
    cumulative,
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/**
 * The q-quantile (0–1) the way PromQL's `histogram_quantile` estimates it: linear inside the bucket that holds
 * it, the lowest bucket starting at 0, and the highest finite bound when it falls in +Inf. Null without
 * observations.
 */
export function bucketQuantile(h: BucketCounts, q: number): number | null {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let i = 0;
  while (i < h.cumulative.length - 1 && h.cumulative[i]! < rank) i++;
  if (i >= h.bounds.length) return h.bounds[h.bounds.length - 1] ?? null;
  const lo = i === 0 ? 0 : h.bounds[i - 1]!;
  const below = i === 0 ? 0 : h.cumulative[i - 1]!;
  const inBucket = h.cumulative[i]! - below;
  if (inBucket <= 0) return h.bounds[i]!;
  return lo + (h.bounds[i]! - lo) * ((rank - below) / inBucket);
}

/** The bucket the largest observation fell in, as [lower, upper] seconds (upper Infinity for +Inf); null if none. */
export function bucketMax(h: BucketCounts): [number, number] | null {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  let i = 0;
  while (h.cumulative[i]! < total) i++;
  return [i === 0 ? 0 : h.bounds[i - 1]!, i < h.bounds.length ? h.bounds[i]! : Number.POSITIVE_INFINITY];
}

/**
 * Reads histogram `name` from Prometheus text (`name_bucket{le="…"}`, `name_sum`, `name_count`, no other
 * labels). Null when the exposition has no such histogram.
 */
export function parseBuckets(text: string, name: string): BucketCounts | null {
  const pairs: Array<[number, number]> = [];
  let sum: number | null = null;
  let count: number | null = null;
  const bucket = `${name}_bucket{le="`;
  for (const line of text.split('\n')) {
    if (line.startsWith(bucket)) {
      const end = line.indexOf('"}', bucket.length);
      const le = line.slice(bucket.length, end);
      pairs.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(line.slice(end + 3))]);
    } else if (line.startsWith(`${name}_sum `)) sum = Number(line.slice(name.length + 5));
    else if (line.startsWith(`${name}_count `)) count = Number(line.slice(name.length + 7));
  }
  if (!pairs.length || sum === null || count === null) return null;
  pairs.sort((a, b) => a[0] - b[0]);
  return {
    bounds: pairs.filter(([le]) => le !== Number.POSITIVE_INFINITY).map(([le]) => le),
    cumulative: pairs.map(([, n]) => n),
    sum,
    count,
  };
}

/**
 * Added reply latency for emulated rigs: a real miner answers its API in tens to hundreds of milliseconds (a
 * busy controller, a farm network), loopback in microseconds. Benchmarks add it to see how many polls are in
 * flight at once, which zero-latency loopback hides.
 */
import { mix32 } from '../../lib/hash.js';

/**
 * Delay before each reply, drawn per reply (per connection) from a seeded log-normal whose 95 % range is
 * `minMs`…`maxMs` (median √(min·max)), clamped to that range. `{ minMs: 20, maxMs: 200 }` gives a median of
 * 63 ms, a mean of ~72 ms.
 */
export interface LatencyOptions {
  minMs: number;
  maxMs: number;
}

/** The "realistic" setting the sweep benchmark uses: 20–200 ms per command. */
export const REALISTIC_LATENCY: LatencyOptions = { minMs: 20, maxMs: 200 };

/** Check a latency setting; a bad one is a programming error in a test or bench, so a plain RangeError. */
export function checkLatency(l: LatencyOptions): LatencyOptions {
  if (!(Number.isFinite(l.minMs) && Number.isFinite(l.maxMs) && l.minMs >= 0 && l.maxMs >= l.minMs))
    throw new RangeError(`latency needs 0 ≤ minMs ≤ maxMs (got ${l.minMs}…${l.maxMs})`);
  return l;
}

/** One delay in ms from two uniform [0, 1) draws (Box–Muller), log-normal between minMs and maxMs. */
export function drawLatencyMs(l: LatencyOptions, rng: () => number): number {
  if (l.maxMs <= 0) return 0;
  if (l.minMs === l.maxMs || l.minMs <= 0) {
    // No log-normal over a zero lower bound: uniform is the honest fallback.
    return l.minMs + rng() * (l.maxMs - l.minMs);
  }
  const u1 = 1 - rng(); // (0, 1]: log(0) never happens
  const u2 = rng();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const median = Math.sqrt(l.minMs * l.maxMs);
  const sigma = Math.log(l.maxMs / l.minMs) / 4;
  return Math.min(l.maxMs, Math.max(l.minMs, median * Math.exp(sigma * z)));
}

/**
 * Whether rig `index` of a fleet seeded `seed` is one of the `fraction` that hang: a hash of both, so the
 * hung rigs are spread over the fleet's personality mix (every n-th rig would pick only a few personalities),
 * the same set in every process that serves a share of the fleet, and a superset when the fraction grows.
 */
export function hangsAt(seed: number, index: number, fraction: number): boolean {
  if (fraction <= 0) return false;
  return mix32(mix32(seed ^ 0x5bd1e995) ^ index) / 0x1_0000_0000 < fraction;
}

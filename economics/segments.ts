/**
 * Cutting a period where an input changes. Difficulty changes at a retarget, the subsidy at a halving block,
 * the price by local day: each is a step series, and a period is cut at every step of every series so each
 * segment has one value of each input. Figures are summed over segments, never computed from averaged inputs.
 */
import { nextHalvingHeight, subsidySats } from './subsidy.js';

export interface Step<T> {
  /** From this instant (UTC ms) the value holds until the next step. */
  at_ms: number;
  value: T;
  /** Where the value came from (provider, import, config) and on what basis. */
  source?: string;
}

export interface Segment<K extends string, T> {
  from_ms: number;
  to_ms: number;
  values: Record<K, Step<T> | null>;
}

/** The step in force at `ms` (steps sorted by at_ms), or null before the first. */
export function stepAt<T>(steps: readonly Step<T>[], ms: number): Step<T> | null {
  let lo = 0;
  let hi = steps.length - 1;
  let found: Step<T> | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = steps[mid]!;
    if (s.at_ms <= ms) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Cut [fromMs, toMs) at every step of every series (and at the extra `cuts`, e.g. day starts).
 * A series with `validUntil` gives null after that instant (a price holds only for its own day).
 */
export function cutSegments<K extends string, T>(
  fromMs: number,
  toMs: number,
  series: Record<K, readonly Step<T>[]>,
  cuts: readonly number[] = [],
  validUntil: Partial<Record<K, (s: Step<T>) => number>> = {},
): Segment<K, T>[] {
  const points = new Set<number>([fromMs, toMs]);
  for (const c of cuts) if (c > fromMs && c < toMs) points.add(c);
  for (const key of Object.keys(series) as K[]) {
    const until = validUntil[key];
    for (const s of series[key]) {
      if (s.at_ms > fromMs && s.at_ms < toMs) points.add(s.at_ms);
      if (until) {
        const u = until(s);
        if (u > fromMs && u < toMs) points.add(u);
      }
    }
  }
  const sorted = [...points].sort((a, b) => a - b);
  const out: Segment<K, T>[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const from = sorted[i]!;
    const to = sorted[i + 1]!;
    const values = {} as Record<K, Step<T> | null>;
    for (const key of Object.keys(series) as K[]) {
      const s = stepAt(series[key], from);
      const until = validUntil[key];
      values[key] = s && (!until || until(s) > from) ? s : null;
    }
    out.push({ from_ms: from, to_ms: to, values });
  }
  return out;
}

export interface HeightPoint {
  at_ms: number;
  height: number;
}

/**
 * The subsidy as a step series from recorded heights. The subsidy changes at a block height, not a date: the
 * halving instant is the time of the first recorded height at or past the halving block when that record is the
 * halving block itself (`exact`), otherwise it is estimated from the last record before it at 600 s a block and
 * marked `estimated`.
 */
export function subsidySteps(heights: readonly HeightPoint[]): Step<bigint>[] {
  const out: Step<bigint>[] = [];
  for (let i = 0; i < heights.length; i++) {
    const h = heights[i]!;
    const prev = heights[i - 1];
    if (prev) {
      const halving = nextHalvingHeight(prev.height);
      if (h.height >= halving) {
        const exact = h.height === halving;
        const at = exact ? h.at_ms : Math.min(h.at_ms, prev.at_ms + (halving - prev.height) * 600_000);
        out.push({
          at_ms: at,
          value: subsidySats(halving),
          source: exact ? `halving at height ${halving}` : `halving at height ${halving} (time estimated)`,
        });
        if (!exact && at < h.at_ms) continue;
        if (exact) continue;
      }
    }
    const v = subsidySats(h.height);
    const last = out[out.length - 1];
    if (!last || last.value !== v) out.push({ at_ms: h.at_ms, value: v, source: `height ${h.height}` });
  }
  return out;
}

/**
 * Expected revenue over a period from measured work (TH·s: hashrate integrated over time), cut at every change
 * of difficulty, block reward (subsidy + fees) and price. Work recorded per hour is spread evenly over its hour
 * when a segment boundary falls inside it.
 */
import { Ratio } from './exact.js';
import { expectedSats, HASHES_PER_TH, satsToMicroUsd } from './hashprice.js';
import type { Segment } from './segments.js';

export interface WorkHour {
  hour_ms: number;
  /** TH·s done in the hour (hashrate × seconds hashing). */
  th_s: Ratio;
}

export type MarketKey = 'difficulty' | 'reward_sats' | 'price_micro_usd';

export interface SegmentRevenue {
  from_ms: number;
  to_ms: number;
  th_s: Ratio;
  /** Null when difficulty or reward is missing for the segment. */
  sats: Ratio | null;
  /** Null when sats or the price is missing. */
  micro_usd: Ratio | null;
  missing: MarketKey[];
}

const HOUR = 3_600_000;

/** Work of `hours` (sorted, one per hour) falling in [fromMs, toMs), prorated within an hour. */
export function workIn(hours: readonly WorkHour[], fromMs: number, toMs: number): Ratio {
  // Whole hours are summed per denominator (plain BigInt adds), partial hours as fractions.
  const byDen = new Map<bigint, bigint>();
  let partial = Ratio.ZERO;
  for (const h of hours) {
    const a = Math.max(fromMs, h.hour_ms);
    const b = Math.min(toMs, h.hour_ms + HOUR);
    if (b <= a) continue;
    if (b - a === HOUR) byDen.set(h.th_s.den, (byDen.get(h.th_s.den) ?? 0n) + h.th_s.num);
    else partial = partial.add(h.th_s.mul(new Ratio(BigInt(b - a), BigInt(HOUR))));
  }
  let total = partial;
  for (const [den, num] of byDen) total = total.add(new Ratio(num, den));
  return total;
}

export function revenueBySegment(
  hours: readonly WorkHour[],
  segments: readonly Segment<MarketKey, Ratio>[],
): SegmentRevenue[] {
  const sorted = [...hours].sort((a, b) => a.hour_ms - b.hour_ms);
  const out: SegmentRevenue[] = [];
  let start = 0;
  for (const seg of segments) {
    while (start < sorted.length && sorted[start]!.hour_ms + HOUR <= seg.from_ms) start++;
    let end = start;
    while (end < sorted.length && sorted[end]!.hour_ms < seg.to_ms) end++;
    const work = workIn(sorted.slice(start, end), seg.from_ms, seg.to_ms);
    const missing = (Object.keys(seg.values) as MarketKey[]).filter((k) => seg.values[k] === null);
    const d = seg.values.difficulty?.value;
    const r = seg.values.reward_sats?.value;
    const p = seg.values.price_micro_usd?.value;
    const sats = d && r ? expectedSats(work.mul(HASHES_PER_TH), d, r) : null;
    out.push({
      from_ms: seg.from_ms,
      to_ms: seg.to_ms,
      th_s: work,
      sats,
      micro_usd: sats && p ? satsToMicroUsd(sats, p) : null,
      missing,
    });
  }
  return out;
}

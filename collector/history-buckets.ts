/**
 * History buckets from raw polls: the one rule set behind `/v1/rigs/:id/history`, shared by the embedded store
 * (SQLite rows) and the InfluxDB reader (InfluxQL rows), so both answer the same figures for the same polls.
 *
 * - polls / polls_ok: every poll in the bucket / the answered ones.
 * - hashrate: mean over answered polls while hashing (mining, ramping, curtailed), or at exactly 0 H/s (a rig
 *   polled fine at 0 is 0, not missing; a non-hashing state's leftover figure is left out).
 * - power: mean over answered polls with a figure; power_source: the weakest source among them.
 * - energy and mining seconds: the state and power seen at a poll hold until the next poll of that rig, if it
 *   comes within the gap cap (2 × interval after an answered poll, 2 × (backoff max + interval) after a failed
 *   one); a longer gap is not integrated. A bucket nothing fell in keeps polls 0 and nulls.
 */
import type { PowerSource, RigState } from '../protocols/sample.js';
import type { HistoryPoint } from './views.js';

export const SOURCE_RANK: Record<PowerSource, number> = { pdu: 1, miner: 2, estimate: 3 };
export const RANK_SOURCE: (PowerSource | null)[] = [null, 'pdu', 'miner', 'estimate'];
export const HASHING: ReadonlySet<RigState> = new Set(['mining', 'ramping', 'curtailed']);

/** One poll of one rig as history reads it. */
export interface RawPoll {
  at_ms: number;
  ok: boolean;
  state: string;
  hashrate_hs: number | null;
  power_w: number | null;
  power_source: PowerSource | null;
  temp_chip_max_c: number | null;
}

/** Running totals of one bucket. */
export interface BucketAcc {
  polls: number;
  polls_ok: number;
  hs_sum: number;
  hs_n: number;
  p_sum: number;
  p_n: number;
  /** Weakest power source seen (SOURCE_RANK; 0: none). */
  rank: number;
  temp: number | null;
  energy: number | null;
  mining_s: number;
}

export function newBuckets(count: number): BucketAcc[] {
  return Array.from({ length: count }, () => ({
    polls: 0,
    polls_ok: 0,
    hs_sum: 0,
    hs_n: 0,
    p_sum: 0,
    p_n: 0,
    rank: 0,
    temp: null,
    energy: null,
    mining_s: 0,
  }));
}

export interface GapCaps {
  /** Poll interval: the gap cap after an answered poll is twice this. */
  intervalMs: number;
  /** Scheduler backoff ceiling: dead rigs are polled less often on purpose. */
  backoffMaxMs: number;
}

/** How far before a range raw polls are read, so the first interval of the range is integrated. */
export function lookbackMs(caps: GapCaps): number {
  return 2 * (caps.backoffMaxMs + caps.intervalMs);
}

/** Calls `span(from, to)` for the interval [prev, cur) when it is short enough to integrate. */
export function integrate(
  prev: { at_ms: number; ok: boolean },
  cur: { at_ms: number },
  caps: GapCaps,
  span: (from: number, to: number) => void,
): void {
  if (cur.at_ms <= prev.at_ms) return;
  const cap = prev.ok ? 2 * caps.intervalMs : 2 * (caps.backoffMaxMs + caps.intervalMs);
  if (cur.at_ms - prev.at_ms > cap) return;
  span(prev.at_ms, cur.at_ms);
}

/**
 * Add raw polls (in time order, from `start − lookbackMs` on) to the buckets of the grid `fromMs + i × stepMs`.
 * Polls before `start` only carry their interval into the range; they are not counted.
 */
export function addRawPolls(
  acc: BucketAcc[],
  rows: Iterable<RawPoll>,
  grid: { fromMs: number; stepMs: number; start: number },
  caps: GapCaps,
): void {
  const { fromMs, stepMs, start } = grid;
  const bucketOf = (t: number) => Math.floor((t - fromMs) / stepMs);
  let prev: RawPoll | null = null;
  for (const r of rows) {
    if (prev) {
      const p: RawPoll = prev;
      integrate(p, r, caps, (from, to) => {
        // Pieces are split at bucket edges; drop those before the raw part of the range.
        let t = Math.max(from, start);
        while (t < to) {
          const b = bucketOf(t);
          const edge = Math.min(to, fromMs + (b + 1) * stepMs);
          const a = acc[b];
          if (a) {
            const s = (edge - t) / 1000;
            if (p.ok && p.state === 'mining') a.mining_s += s;
            if (p.ok && p.power_w !== null) a.energy = (a.energy ?? 0) + (p.power_w * s) / 3600;
          }
          t = edge;
        }
      });
    }
    prev = r;
    if (r.at_ms < start) continue;
    const a = acc[bucketOf(r.at_ms)];
    if (!a) continue;
    a.polls += 1;
    if (r.ok) {
      a.polls_ok += 1;
      if (r.hashrate_hs !== null && (HASHING.has(r.state as RigState) || r.hashrate_hs === 0)) {
        a.hs_sum += r.hashrate_hs;
        a.hs_n += 1;
      }
      if (r.power_w !== null) {
        a.p_sum += r.power_w;
        a.p_n += 1;
        if (r.power_source) a.rank = Math.max(a.rank, SOURCE_RANK[r.power_source]);
      }
      if (r.temp_chip_max_c !== null)
        a.temp = a.temp === null ? r.temp_chip_max_c : Math.max(a.temp, r.temp_chip_max_c);
    }
  }
}

/** The buckets as history points (energy and mining seconds to the millisecond's precision). */
export function bucketPoints(acc: BucketAcc[], fromMs: number, stepMs: number): HistoryPoint[] {
  return acc.map((a, i) => ({
    t_ms: fromMs + i * stepMs,
    hashrate_hs: a.hs_n > 0 ? a.hs_sum / a.hs_n : null,
    power_w: a.p_n > 0 ? a.p_sum / a.p_n : null,
    power_source: RANK_SOURCE[a.rank] ?? null,
    temp_chip_max_c: a.temp,
    energy_wh: a.energy === null ? null : Math.round(a.energy * 1000) / 1000,
    polls: a.polls,
    polls_ok: a.polls_ok,
    mining_s: Math.round(a.mining_s * 1000) / 1000,
  }));
}

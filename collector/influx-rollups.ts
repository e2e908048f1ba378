/**
 * Hourly per-rig rollups from InfluxDB, for economics in a standalone `rigtel api`: the embedded store's
 * `RollupRow`s (collector/sinks/embedded.ts), aggregated by InfluxDB with GROUP BY time(1h), "rig" over every
 * rig in the period, then handed to the synchronous report as an in-memory `RollupSource`.
 *
 * Polls, hashrate (hashing states, or exactly 0 H/s), power, weakest source and chip temperature follow the
 * embedded store's rules. The time figures are estimates: each poll is counted as holding one poll interval
 * (mining, curtailed, offline and covered seconds, and energy = Σ power × interval), capped at the hour; the
 * embedded store integrates between polls and leaves gaps past the gap cap out. Polls expected are a full hour's,
 * but for a rig's first hour in the period when it has no poll in the hour before (seen from its first poll).
 */

import type { InfluxSinkConfig } from '../config/sections/sinks.js';
import { invalidInput } from '../economics/index.js';
import type { Logger } from '../lib/log.js';
import type { RigState } from '../protocols/sample.js';
import type { RollupLoader, RollupSource } from './economics/report.js';
import { HASHING, RANK_SOURCE, SOURCE_RANK } from './history-buckets.js';
import { InfluxReader, ms, num, rowsOf, source } from './influx-read.js';
import type { RollupRow } from './sinks/embedded.js';

const HOUR = 3_600_000;
/** Most rig-hours one report may read from InfluxDB (1,000 rigs × 31 days). */
export const MAX_RIG_HOURS = 1_000 * 24 * 31;
/** Most series one query may return: rigs × states × sources. */
const MAX_SERIES = 200_000;

export interface InfluxRollupsOptions {
  influx: InfluxSinkConfig;
  intervalMs: number;
  /** Rigs known now (the live fleet): a period too long for them is refused before InfluxDB is asked. */
  rigCount?: () => number;
  log?: Logger;
}

interface HourAcc {
  polls: number;
  polls_ok: number;
  hs_sum: number;
  hs_n: number;
  p_sum: number;
  p_n: number;
  rank: number;
  temp: number | null;
  mining_n: number;
  curtailed_n: number;
}

export class InfluxRollups implements RollupLoader {
  readonly #influx: InfluxReader;
  readonly #intervalMs: number;
  readonly #stateTag: boolean;
  readonly #rigCount: () => number;

  constructor(opts: InfluxRollupsOptions) {
    this.#influx = new InfluxReader(opts.influx, opts.log);
    this.#intervalMs = opts.intervalMs;
    this.#stateTag = opts.influx.tags.includes('state');
    this.#rigCount = opts.rigCount ?? (() => 0);
  }

  async load(fromMs: number, toMs: number): Promise<RollupSource> {
    const a = Math.floor(fromMs / HOUR) * HOUR;
    const hours = Math.ceil((toMs - a) / HOUR);
    if (!(hours > 0)) return memorySource(new Map());
    this.#bound(this.#rigCount(), hours);
    const f = (m: 'poll' | 'rig') => this.#influx.from(m);
    // One hour before the period: a rig polled then was already running when the period began.
    const where = `WHERE time >= ${ms(a - HOUR)} AND time < ${ms(toMs)}`;
    const by = 'GROUP BY time(1h), "rig"';
    const bounds = `fill(none) LIMIT ${hours + 1} SLIMIT ${MAX_SERIES}`;
    const [polls, rigs, zeros] = await this.#influx.query(
      [
        `SELECT count("up"), sum("up") FROM ${f('poll')} ${where} ${by} ${bounds}`,
        `SELECT sum("hashrate_hs"), count("hashrate_hs"), sum("power_w"), count("power_w"), max("temp_chip_max_c") FROM ${f('rig')} ${where} ${by}, "state", "power_source" ${bounds}`,
        `SELECT count("hashrate_hs") FROM ${f('rig')} ${where} AND "hashrate_hs" = 0 ${by}, "state" ${bounds}`,
      ],
      {},
    );
    this.#bound(new Set((polls ?? []).map((x) => x.tags?.rig)).size, hours);
    const byRig = new Map<string, Map<number, HourAcc>>();
    const acc = (rig: string | undefined, t: unknown) => {
      if (rig === undefined) return undefined;
      const hours = byRig.get(rig) ?? new Map<number, HourAcc>();
      byRig.set(rig, hours);
      const h = Number(t);
      let x = hours.get(h);
      if (!x) {
        x = {
          polls: 0,
          polls_ok: 0,
          hs_sum: 0,
          hs_n: 0,
          p_sum: 0,
          p_n: 0,
          rank: 0,
          temp: null,
          mining_n: 0,
          curtailed_n: 0,
        };
        hours.set(h, x);
      }
      return x;
    };
    for (const s of polls ?? []) {
      for (const r of rowsOf([s])) {
        const x = acc(s.tags?.rig, r.time)!;
        x.polls += num(r.count) ?? 0;
        x.polls_ok += num(r.sum) ?? 0;
      }
    }
    for (const s of rigs ?? []) {
      const state = s.tags?.state ?? '';
      const src = source(s.tags?.power_source);
      const hashing = !this.#stateTag || HASHING.has(state as RigState);
      for (const r of rowsOf([s])) {
        const x = acc(s.tags?.rig, r.time)!;
        const hsN = num(r.count) ?? 0;
        if (hsN > 0 && hashing) {
          x.hs_sum += num(r.sum) ?? 0;
          x.hs_n += hsN;
        }
        if (!this.#stateTag || state === 'mining') x.mining_n += hsN;
        if (state === 'curtailed') x.curtailed_n += hsN;
        const pN = num(r.count_1) ?? 0;
        if (pN > 0) {
          x.p_sum += num(r.sum_1) ?? 0;
          x.p_n += pN;
          if (src) x.rank = Math.max(x.rank, SOURCE_RANK[src]);
        }
        const temp = num(r.max);
        if (temp !== null) x.temp = x.temp === null ? temp : Math.max(x.temp, temp);
      }
    }
    for (const s of zeros ?? []) {
      if (!this.#stateTag || HASHING.has((s.tags?.state ?? '') as RigState)) continue;
      for (const r of rowsOf([s])) acc(s.tags?.rig, r.time)!.hs_n += num(r.count) ?? 0;
    }

    const perHour = HOUR / this.#intervalMs;
    const intervalS = this.#intervalMs / 1000;
    const out = new Map<string, RollupRow[]>();
    for (const [rig, hourMap] of byRig) {
      const list = [...hourMap.entries()].sort((x, y) => x[0] - y[0]);
      const rows: RollupRow[] = [];
      for (let i = 0; i < list.length; i++) {
        const [hour, x] = list[i]!;
        if (hour < a) continue; // the hour before the period only tells whether the rig was running
        // The rig's first hour (no poll in the hour before the period either): polls expected from its first
        // poll on, estimated by the polls it got.
        const first = i === 0;
        const expected = first ? Math.min(perHour, Math.max(x.polls, 1)) : perHour;
        const capS = (n: number) => Math.min(3600, n * intervalS);
        const covered = capS(x.polls);
        rows.push({
          rig_id: rig,
          hour_ms: hour,
          polls: x.polls,
          polls_ok: x.polls_ok,
          polls_expected: Math.round(expected * 100) / 100,
          hashrate_hs: x.hs_n > 0 ? x.hs_sum / x.hs_n : null,
          power_w: x.p_n > 0 ? x.p_sum / x.p_n : null,
          power_source: RANK_SOURCE[x.rank] ?? null,
          energy_wh: x.p_n > 0 ? ((x.p_sum / x.p_n) * capS(x.p_n)) / 3600 : null,
          temp_chip_max_c: x.temp,
          mining_s: capS(x.mining_n),
          curtailed_s: capS(x.curtailed_n),
          offline_s: capS(x.polls - x.polls_ok),
          covered_s: covered,
        });
      }
      if (rows.length) out.set(rig, rows);
    }
    return memorySource(out);
  }

  #bound(rigs: number, hours: number): void {
    if (rigs * hours > MAX_RIG_HOURS) {
      throw invalidInput(
        'from',
        `${rigs} rigs × ${hours} h is more than this API reads from InfluxDB at once (at most ${MAX_RIG_HOURS} rig-hours): ask for a shorter period`,
      );
    }
  }
}

/** Rollups already read, served synchronously to the report. */
function memorySource(rows: Map<string, RollupRow[]>): RollupSource {
  return {
    rigIds: () => [...rows.keys()].sort(),
    rollups: (rigId, fromMs, toMs) =>
      (rows.get(rigId) ?? []).filter((r) => r.hour_ms >= fromMs && r.hour_ms < toMs),
  };
}

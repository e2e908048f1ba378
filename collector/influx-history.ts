/**
 * History from InfluxDB, for a standalone `rigtel api` (any number of collectors write, one API reads). Answers
 * the history route with the embedded store's buckets, units and null-for-missing rules
 * (collector/history-buckets.ts), from the points the Influx sink writes (collector/sinks/influx-schema.ts).
 *
 * - A range of at most RAW_MAX_POLLS polls is read raw (`poll.up` and the `rig` fields and tags at the same
 *   times) and bucketed by the same code as the embedded store: same figures for the same polls.
 * - A longer range is aggregated by InfluxDB (GROUP BY time(step, offset), fill(none): an empty bucket stays
 *   empty, never 0). Polls, hashrate, power, source and temperature follow the same rules; energy and mining
 *   seconds are estimated as each answered poll holding one poll interval (the raw path integrates between
 *   polls and leaves gaps longer than the gap cap out).
 *
 * Every query is bounded (time range, LIMIT, SLIMIT, request timeout); the rig id is a bound parameter, never
 * spliced into the InfluxQL; identifiers come from validated config and are quoted. A failure is a named error
 * (503 no answer, 502 refused) whose message names the host only, never the credentials.
 */
import type { InfluxSinkConfig } from '../config/sections/sinks.js';
import type { Logger } from '../lib/log.js';
import type { RigState } from '../protocols/sample.js';
import {
  addRawPolls,
  type BucketAcc,
  bucketPoints,
  type GapCaps,
  HASHING,
  lookbackMs,
  newBuckets,
  type RawPoll,
  SOURCE_RANK,
} from './history-buckets.js';
import { InfluxReader, ms, num, rowsOf, source } from './influx-read.js';
import type { Measurement } from './sinks/influx-schema.js';
import type { HistoryPoint, HistoryQuery, HistorySource } from './views.js';

export const RAW_MAX_POLLS = 20_000;
/** Most buckets one aggregated query may ask for (the route allows 10,000). */
const MAX_BUCKETS = 20_000;
/** Series of one aggregated query: states × power sources (6 × 4), with room for tags written by older code. */
const MAX_SERIES = 100;
/** Rig ids longer than this are not ids (the route caps echoing at 100 characters). */
const MAX_RIG_ID = 1000;

export interface InfluxHistoryOptions {
  influx: InfluxSinkConfig;
  /** Poll interval and backoff ceiling of the collectors: the gap caps, and the poll estimate. */
  caps: GapCaps;
  log?: Logger;
}

export class InfluxHistory implements HistorySource {
  readonly #cfg: InfluxSinkConfig;
  readonly #caps: GapCaps;
  readonly #influx: InfluxReader;

  constructor(opts: InfluxHistoryOptions) {
    this.#cfg = opts.influx;
    this.#caps = opts.caps;
    this.#influx = new InfluxReader(opts.influx, opts.log);
  }

  #from(m: Measurement): string {
    return this.#influx.from(m);
  }

  #query(statements: string[], rigId: string) {
    return this.#influx.query(statements, { rig: rigId });
  }

  async hasRig(rigId: string): Promise<boolean> {
    if (!validId(rigId)) return false;
    // Served from the series index: no time range to scan.
    const [r] = await this.#query(
      [`SHOW TAG VALUES FROM ${this.#from('poll')} WITH KEY = "rig" WHERE "rig" = $rig`],
      rigId,
    );
    return (r?.[0]?.values?.length ?? 0) > 0;
  }

  async history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const stepMs = q.stepS * 1000;
    const count = Math.ceil((q.toMs - q.fromMs) / stepMs);
    if (!(count > 0) || count > MAX_BUCKETS) throw new RangeError(`bad history range: ${count} buckets`);
    const acc = newBuckets(count);
    if (!validId(q.rigId)) return bucketPoints(acc, q.fromMs, stepMs);
    const start = q.fromMs - lookbackMs(this.#caps);
    const expected = (q.toMs - start) / this.#caps.intervalMs;
    if (expected <= RAW_MAX_POLLS) {
      const rows = await this.#rawPolls(q.rigId, start, q.toMs);
      if (rows) {
        addRawPolls(acc, rows, { fromMs: q.fromMs, stepMs, start: q.fromMs }, this.#caps);
        return bucketPoints(acc, q.fromMs, stepMs);
      }
      // More polls than the interval suggests (several writers, a shorter interval): aggregate instead.
    }
    await this.#aggregate(acc, q, stepMs);
    return bucketPoints(acc, q.fromMs, stepMs);
  }

  /** Polls from `fromMs` to `toMs` in time order, or null when there are more than RAW_MAX_POLLS. */
  async #rawPolls(rigId: string, fromMs: number, toMs: number): Promise<RawPoll[] | null> {
    const where = `WHERE "rig" = $rig AND time >= ${ms(fromMs)} AND time < ${ms(toMs)}`;
    const limit = `LIMIT ${RAW_MAX_POLLS + 1}`;
    const [polls, rigs] = await this.#query(
      [
        `SELECT "up" FROM ${this.#from('poll')} ${where} ${limit}`,
        `SELECT "hashrate_hs", "power_w", "temp_chip_max_c", "state", "power_source" FROM ${this.#from('rig')} ${where} ${limit}`,
      ],
      rigId,
    );
    const pollRows = rowsOf(polls);
    const rigRows = rowsOf(rigs);
    if (pollRows.length > RAW_MAX_POLLS || rigRows.length > RAW_MAX_POLLS) return null;
    const byTime = new Map<number, Record<string, unknown>>();
    for (const r of rigRows) byTime.set(Number(r.time), r);
    const stateTag = this.#cfg.tags.includes('state');
    const out: RawPoll[] = [];
    for (const p of pollRows) {
      const at = Number(p.time);
      const rig = p.up === 1 ? byTime.get(at) : undefined;
      const ok = p.up === 1;
      const hashrate = num(rig?.hashrate_hs);
      out.push({
        at_ms: at,
        ok,
        state: ok ? rigState(rig?.state, hashrate, stateTag) : 'offline',
        hashrate_hs: hashrate,
        power_w: num(rig?.power_w),
        power_source: source(rig?.power_source),
        temp_chip_max_c: num(rig?.temp_chip_max_c),
      });
    }
    return out;
  }

  /** Buckets aggregated by InfluxDB, one GROUP BY time() per measurement. */
  async #aggregate(acc: BucketAcc[], q: HistoryQuery, stepMs: number): Promise<void> {
    const offset = ((q.fromMs % stepMs) + stepMs) % stepMs;
    const where = `WHERE "rig" = $rig AND time >= ${ms(q.fromMs)} AND time < ${ms(q.toMs)}`;
    const by = `time(${ms(stepMs)}, ${ms(offset)})`;
    const bounds = `fill(none) LIMIT ${acc.length} SLIMIT ${MAX_SERIES}`;
    const [polls, rigs, zeros] = await this.#query(
      [
        `SELECT count("up"), sum("up") FROM ${this.#from('poll')} ${where} GROUP BY ${by} ${bounds}`,
        `SELECT sum("hashrate_hs"), count("hashrate_hs"), sum("power_w"), count("power_w"), max("temp_chip_max_c") FROM ${this.#from('rig')} ${where} GROUP BY ${by}, "state", "power_source" ${bounds}`,
        `SELECT count("hashrate_hs") FROM ${this.#from('rig')} ${where} AND "hashrate_hs" = 0 GROUP BY ${by}, "state" ${bounds}`,
      ],
      q.rigId,
    );
    const bucket = (t: unknown) => acc[Math.round((Number(t) - q.fromMs) / stepMs)];
    for (const r of rowsOf(polls)) {
      const a = bucket(r.time);
      if (!a) continue;
      a.polls += num(r.count) ?? 0;
      a.polls_ok += num(r.sum) ?? 0;
    }
    const stateTag = this.#cfg.tags.includes('state');
    const intervalS = this.#caps.intervalMs / 1000;
    for (const s of rigs ?? []) {
      const src = source(s.tags?.power_source);
      const state = s.tags?.state ?? '';
      for (const r of rowsOf([s])) {
        const a = bucket(r.time);
        if (!a) continue;
        const hsN = num(r.count) ?? 0;
        const hsSum = num(r.sum) ?? 0;
        // Without the state tag every poll with a hashrate counts, and mining seconds are approximate.
        if (hsN > 0 && (!stateTag || HASHING.has(state as RigState))) {
          a.hs_sum += hsSum;
          a.hs_n += hsN;
          if (!stateTag || state === 'mining') a.mining_s += hsN * intervalS;
        }
        const pN = num(r.count_1) ?? 0;
        if (pN > 0) {
          const pSum = num(r.sum_1) ?? 0;
          a.p_sum += pSum;
          a.p_n += pN;
          a.energy = (a.energy ?? 0) + (pSum * intervalS) / 3600;
          if (src) a.rank = Math.max(a.rank, SOURCE_RANK[src]);
        }
        const temp = num(r.max);
        if (temp !== null) a.temp = a.temp === null ? temp : Math.max(a.temp, temp);
      }
    }
    for (const s of zeros ?? []) {
      // A rig polled fine at exactly 0 H/s in a non-hashing state is 0, not missing (hashing states, and every
      // poll when there is no state tag, are counted above).
      if (!stateTag || HASHING.has((s.tags?.state ?? '') as RigState)) continue;
      for (const r of rowsOf([s])) {
        const a = bucket(r.time);
        if (a) a.hs_n += num(r.count) ?? 0;
      }
    }
    const stepS = stepMs / 1000;
    for (const a of acc) a.mining_s = Math.min(a.mining_s, stepS);
  }
}

function validId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_RIG_ID;
}

/** The rig's state from its tag; when the sink does not write that tag, > 0 H/s counts as mining. */
function rigState(tag: unknown, hashrate: number | null, stateTag: boolean): string {
  if (stateTag) return typeof tag === 'string' ? tag : '';
  return hashrate !== null && hashrate > 0 ? 'mining' : '';
}

/**
 * Loan figures from InfluxDB, for a standalone `rigtel api` (several collectors write, one API reports): the
 * hourly rollups are collector/influx-rollups.ts's (the same reader economics uses), the pledged-vs-seen window
 * is read raw through collector/influx-read.ts. What InfluxDB cannot give exactly is named in the report's
 * `data_source` (`INFLUX_PROVENANCE`):
 *
 * - time figures are estimates: each poll holds one poll interval, capped at the hour (mining, curtailed, offline
 *   and covered seconds), and energy = mean power × those seconds; the embedded store integrates between polls;
 * - the sink writes no serial numbers and no addresses (collector/sinks/influx-schema.ts): a replayed poll has
 *   its rig id (the MAC when the miner reported one), model and firmware tags and board count, so pledges match
 *   by MAC alone and a rig's address is its rig id.
 *
 * Every query is bounded (time range, LIMIT per rig, SLIMIT); identifiers come from validated config.
 */

import { normalizeMac } from '../collector/identity.js';
import { InfluxReader, ms, num, rowsOf, type Series } from '../collector/influx-read.js';
import type { InfluxRollupsOptions } from '../collector/influx-rollups.js';
import { InfluxRollups } from '../collector/influx-rollups.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { LoanErrors } from './errors.js';
import type { PledgePoll, SeenIdentity, UnpledgedRig } from './pledges.js';
import type { DataProvenance, LoanDataSource, LoanHours, ReplayOptions, ReplayWindow } from './source.js';
import { siteHours } from './source.js';

/** Most rigs one replay reads (series per query). */
const MAX_RIGS = 20_000;
/** Rigs read in full per request of `replayWindow` (an InfluxQL `"rig" = … OR …` of this many terms). */
const RIGS_PER_READ = 200;
/** About how many polls one time slice of `replayWindow`'s full reads holds (every pledged rig's, a slice). */
const REPLAY_SLICE_ROWS = 20_000;
/** The columns a replayed poll reads of the rig measurement (fields, then the tags state, model and firmware). */
const READING = '"hashrate_hs", "board_count", "state", "model", "firmware"';

export const INFLUX_PROVENANCE: DataProvenance = {
  store: 'influxdb',
  method:
    'hourly aggregates of the polls the collectors wrote to InfluxDB (GROUP BY time(1h), rig): polls, answered polls, mean hashrate, mean power and chip temperature as stored; time figures estimated as each poll holding one poll interval, capped at the hour (mining, curtailed, offline and covered seconds), energy = mean power x those seconds; the embedded store of a collector integrates between polls instead',
  measured: ['rigs[].polls', 'rigs[].polls_ok', 'coverage.polls', 'coverage.polls_ok'],
  estimated: [
    'covenants.dscr',
    'covenants.ltv',
    'covenants.performance_ratio',
    'covenants.uptime',
    'figures.revenue_usd',
    'figures.energy_kwh',
    'figures.energy_usd',
    'figures.demand_usd',
    'figures.curtailment_credits_usd',
    'figures.hosting_usd',
    'figures.pool_fees_usd',
    'figures.other_opex_usd',
    'figures.cfads_usd',
    'figures.collateral_measured_usd',
    'figures.measured_ths',
    'daily[]',
    'stress',
    'rigs[].measured_ths',
    'rigs[].j_per_th',
    'rigs[].energy_kwh',
    'rigs[].revenue_usd',
    'rigs[].uptime',
    'rigs[].collateral_measured_usd',
    'rigs[].gap_hours',
    'rigs[].gaps',
    'reconciliation.revenue_fleet_usd',
    'reconciliation.revenue_rigs_sum_usd',
    'reconciliation.revenue_difference_usd',
    'coverage.answered_share',
    'coverage.site_hours_covered',
    'coverage.site_gaps',
  ],
  from_config: [
    'loan',
    'inputs',
    'figures.debt_service_usd',
    'figures.balance_usd',
    'figures.collateral_nameplate_usd',
    'figures.ltv_nameplate',
    'figures.nameplate_ths',
    'rigs[].nominal_ths',
    'rigs[].collateral_nameplate_usd',
    'rigs[].polls_expected',
    'coverage.polls_expected',
  ],
  reconciliation:
    'pledged-vs-seen (rigs[].status, covenants.units_online, reconciliation.problems and unpledged) replayed from the polls in InfluxDB: rig id (its MAC when the miner reported one), model and firmware tags, board count; InfluxDB holds no serial numbers and no addresses, so pledges match by MAC alone and an address is shown as the rig id',
};

export type InfluxLoanSourceOptions = InfluxRollupsOptions;

export class InfluxLoanSource implements LoanDataSource {
  readonly provenance = INFLUX_PROVENANCE;
  readonly serials = false;
  readonly #rollups: InfluxRollups;
  readonly #influx: InfluxReader;
  readonly #intervalMs: number;
  readonly #stateTag: boolean;

  constructor(opts: InfluxLoanSourceOptions) {
    this.#rollups = new InfluxRollups(opts);
    this.#influx = new InfluxReader(opts.influx, opts.log);
    this.#intervalMs = opts.intervalMs;
    this.#stateTag = opts.influx.tags.includes('state');
  }

  async hours(hourFromMs: number, toMs: number): Promise<LoanHours> {
    let src: Awaited<ReturnType<InfluxRollups['load']>>;
    try {
      src = await this.#rollups.load(hourFromMs, toMs);
    } catch (err) {
      // Too many rig-hours for one read: a loan period error, not an economics one.
      if (errorCode(err) === 'RT_ERR_ECON_INVALID_INPUT') throw LoanErrors.badPeriod(errorMessage(err));
      throw err;
    }
    const rows = (rigId: string) => src.rollups(rigId, hourFromMs, toMs);
    const site = siteHours(src.rigIds().flatMap(rows));
    return { rollups: rows, siteCovered: () => new Map(site.covered), siteWh: () => new Map(site.wh) };
  }

  /** Every poll of the window at once (reports read `replayWindow` instead; this one holds the whole window). */
  async polls(fromMs: number, toMs: number): Promise<PledgePoll[]> {
    if (!(toMs > fromMs)) return [];
    return this.#readPolls(fromMs, toMs, null);
  }

  /**
   * The window reduced (`ReplayWindow`, loans/source.ts), with the same lists as a replay of `polls`. A poll here
   * has no serial and its address is its rig id, so the polls that can change a pledge's status are those of the
   * rigs whose id is a pledged MAC (`pledged`): only the address a pledged identity answered at (its own rig id)
   * can make the watcher judge a pledge; every other rig can only be listed unpledged. Per rig, aggregates of the
   * window (one request, `GROUP BY "rig"`): COUNT of its polls, FIRST and LAST answering poll (`"up" = 1`), its
   * first reading (LIMIT 1) for the identity at first sight; pledged rigs are read in full with `polls`' own
   * statements restricted to them, a time slice (about `sliceRows` polls) at a time as the replay pulls them. A
   * rig whose aggregates could differ from what `polls` gives is read in full as well: a reading tagged offline or
   * a first reading before its first answering poll (sliced), more polls or readings than `polls`' per-rig LIMIT
   * (read whole, so the LIMIT cuts where it does). With as many rig tag values as `polls`' SLIMIT (which InfluxDB
   * applies to each shard's series), the whole window is read as `polls` reads it. Not reproduced: two points of
   * one rig at the same ms in different series (the sink writes one poll and at most one rig point a sample).
   */
  async replayWindow(
    fromMs: number,
    toMs: number,
    pledged: (id: SeenIdentity) => boolean,
    opts: ReplayOptions = {},
  ): Promise<ReplayWindow> {
    const sliceRows = opts.sliceRows ?? REPLAY_SLICE_ROWS;
    if (!(toMs > fromMs)) return { samples: 0, polls: [], others: [] };
    const limit = this.#limit(fromMs, toMs);
    const where = `WHERE time >= ${ms(fromMs)} AND time < ${ms(toMs)}`;
    const by = `GROUP BY "rig"`;
    const cap = `SLIMIT ${MAX_RIGS}`;
    const poll = this.#influx.from('poll');
    const rig = this.#influx.from('rig');
    const statements = [
      `SELECT COUNT("up") AS n FROM ${poll} ${where} ${by} ${cap}`,
      `SELECT FIRST("up") FROM ${poll} ${where} AND "up" = 1 ${by} ${cap}`,
      `SELECT LAST("up") FROM ${poll} ${where} AND "up" = 1 ${by} ${cap}`,
      `SELECT ${READING} FROM ${rig} ${where} ${by} LIMIT 1 ${cap}`,
      `SELECT ${READING} FROM ${rig} ${where} ${by} LIMIT 1 OFFSET ${limit} ${cap}`,
    ];
    if (this.#stateTag)
      statements.push(`SELECT ${READING} FROM ${rig} ${where} AND "state" = 'offline' ${by} LIMIT 1 ${cap}`);
    // Rig tag values in the shards (any time): under the SLIMIT, neither read is cut by it.
    statements.push(
      `SHOW TAG VALUES EXACT CARDINALITY FROM ${poll} WITH KEY = "rig"`,
      `SHOW TAG VALUES EXACT CARDINALITY FROM ${rig} WITH KEY = "rig"`,
    );
    const answers = await this.#influx.query(statements, {});
    const [counts, firsts, lasts, firstReadings, overReadings] = answers;
    const offline = this.#stateTag ? answers[5] : [];
    const tagValues = answers
      .slice(-2)
      .map((series) => num(rowsOf(series)[0]?.count) ?? 0)
      .reduce((a, b) => Math.max(a, b), 0);
    if (
      tagValues + 1 >= MAX_RIGS ||
      (counts?.length ?? 0) >= MAX_RIGS ||
      (firstReadings?.length ?? 0) >= MAX_RIGS
    ) {
      // As many rig tag values (and the rig-less series) as the full read's SLIMIT, which InfluxDB applies to the
      // series of each shard: which rigs it keeps is that read's own, so read it.
      const polls = await this.#readPolls(fromMs, toMs, null);
      return { samples: polls.length, polls, others: [] };
    }
    const timeBy = (series: Series[] | undefined) => {
      const out = new Map<string, number>();
      for (const s of series ?? []) {
        const r = s.tags?.rig;
        const row = s.values?.[0];
        if (r !== undefined && row) out.set(r, Number(row[s.columns.indexOf('time')]));
      }
      return out;
    };
    const rigsIn = (series: Series[] | undefined) =>
      new Set(
        (series ?? []).flatMap((s) => (s.tags?.rig === undefined || !s.values?.length ? [] : [s.tags.rig])),
      );
    const firstUp = timeBy(firsts);
    const lastUp = timeBy(lasts);
    const over = rigsIn(overReadings);
    const offlineAt = rigsIn(offline);
    const firstReading = new Map<string, Record<string, unknown>>();
    for (const s of firstReadings ?? []) {
      const r = s.tags?.rig;
      const row = rowsOf([s])[0];
      if (r !== undefined && row) firstReading.set(r, row);
    }
    let samples = 0;
    const full: string[] = [];
    const cut: string[] = [];
    const countOf = new Map<string, number>();
    const others: UnpledgedRig[] = [];
    for (const s of counts ?? []) {
      const r = s.tags?.rig;
      const n = num(rowsOf([s])[0]?.n) ?? 0;
      if (r === undefined || n === 0) continue;
      const identity = { serial: null, mac: normalizeMac(r), model: null, firmware: null, boards: null };
      const first = firstUp.get(r);
      const reading = firstReading.get(r);
      const readingAt = reading === undefined ? undefined : Number(reading.time);
      if (n > limit || over.has(r)) {
        cut.push(r);
        continue;
      }
      if (
        pledged(identity) ||
        offlineAt.has(r) ||
        (first !== undefined && readingAt !== undefined && readingAt < first)
      ) {
        full.push(r);
        countOf.set(r, n);
        continue;
      }
      samples += n;
      const last = lastUp.get(r);
      if (first === undefined || last === undefined) continue;
      // The reading at the first answering poll: the first reading when it is at that time; none when later.
      const at = readingAt === first ? reading : undefined;
      const boards = num(at?.board_count);
      others.push({
        rig_id: r,
        address: r,
        identity: {
          ...identity,
          model: text(at?.model),
          firmware: text(at?.firmware),
          boards: boards !== null && boards > 0 ? boards : null,
        },
        first_seen_ms: first,
        last_seen_ms: last,
      });
    }
    // Rigs over a per-rig LIMIT are read whole (the LIMIT cuts them where the full read does) and held; every
    // other rig read in full has all its polls and readings of the window under the LIMIT, so it is read a time
    // slice at a time (about `sliceRows` polls, every chunk of rigs in one request) as the replay pulls them.
    const whole: PledgePoll[] = [];
    for (let i = 0; i < cut.length; i += RIGS_PER_READ)
      for (const p of await this.#readPolls(fromMs, toMs, cut.slice(i, i + RIGS_PER_READ))) whole.push(p);
    whole.sort(byTimeThenRig);
    samples += whole.length;
    let sliced = 0;
    for (const r of full) sliced += countOf.get(r) ?? 0;
    samples += sliced;
    const sliceMs = Math.max(1, Math.floor(((toMs - fromMs) * sliceRows) / Math.max(1, sliced)));
    const read = (a: number, b: number, rigs: string[]) => this.#readPolls(a, b, rigs, limit);
    async function* polls(): AsyncGenerator<PledgePoll, void, void> {
      let w = 0;
      for (let t = fromMs; t < toMs; t += sliceMs) {
        const end = Math.min(toMs, t + sliceMs);
        const slice: PledgePoll[] = [];
        while (w < whole.length && whole[w]!.at_ms < end) slice.push(whole[w++]!);
        if (full.length > 0) for (const p of await read(t, end, full)) slice.push(p);
        slice.sort(byTimeThenRig);
        yield* slice;
      }
    }
    return { samples, polls: polls(), others };
  }

  #limit(fromMs: number, toMs: number): number {
    // A rig polled more often than the interval (two writers, a shorter interval) still fits, four times over.
    return Math.ceil(((toMs - fromMs) / this.#intervalMs) * 4) + 100;
  }

  /**
   * The polls of [fromMs, toMs), of every rig (`rigs` null) or of the rigs named (`"rig" = … OR …`, RIGS_PER_READ
   * rigs a statement, all in one request), by time then rig id; `limit`: the per-rig LIMIT (default: the window's).
   */
  async #readPolls(
    fromMs: number,
    toMs: number,
    rigs: string[] | null,
    limit = this.#limit(fromMs, toMs),
  ): Promise<PledgePoll[]> {
    if (rigs?.length === 0) return [];
    const params: Record<string, string> = {};
    const filters: string[] = [];
    if (rigs === null) filters.push('');
    else
      for (let i = 0; i < rigs.length; i += RIGS_PER_READ)
        filters.push(
          ` AND (${rigs
            .slice(i, i + RIGS_PER_READ)
            .map((r, j) => {
              params[`r${i + j}`] = r;
              return `"rig" = $r${i + j}`;
            })
            .join(' OR ')})`,
        );
    const bounds = `GROUP BY "rig" LIMIT ${limit} SLIMIT ${MAX_RIGS}`;
    const statements: string[] = [];
    for (const only of filters) {
      const where = `WHERE time >= ${ms(fromMs)} AND time < ${ms(toMs)}${only}`;
      statements.push(
        `SELECT "up" FROM ${this.#influx.from('poll')} ${where} ${bounds}`,
        `SELECT ${READING} FROM ${this.#influx.from('rig')} ${where} ${bounds}`,
      );
    }
    const results = await this.#influx.query(statements, params);
    const polls = results.filter((_, i) => i % 2 === 0).flat();
    const rigRows = results.filter((_, i) => i % 2 === 1).flat();
    const readings = new Map<string, Record<string, unknown>>();
    for (const s of rigRows ?? []) {
      const rig = s.tags?.rig;
      if (rig === undefined) continue;
      for (const r of rowsOf([s])) readings.set(`${Number(r.time)} ${rig}`, r);
    }
    const out: PledgePoll[] = [];
    for (const s of polls ?? []) {
      const rig = s.tags?.rig;
      if (rig === undefined) continue;
      for (const p of rowsOf([s])) {
        const at = Number(p.time);
        const ok = p.up === 1;
        const r = ok ? readings.get(`${at} ${rig}`) : undefined;
        const hashrate = num(r?.hashrate_hs);
        const boards = num(r?.board_count);
        out.push({
          rig_id: rig,
          address: rig,
          at_ms: at,
          ok,
          state: ok ? this.#state(r?.state, hashrate) : 'offline',
          hashrate_hs: hashrate,
          identity: {
            serial: null,
            mac: normalizeMac(rig),
            model: text(r?.model),
            firmware: text(r?.firmware),
            boards: boards !== null && boards > 0 ? boards : null,
          },
        });
      }
    }
    // The embedded store's order: time, then rig id.
    return out.sort(byTimeThenRig);
  }

  /** The state tag; when the sink does not write it, > 0 H/s counts as mining. */
  #state(tag: unknown, hashrate: number | null): string {
    if (this.#stateTag) return typeof tag === 'string' ? tag : '';
    return hashrate !== null && hashrate > 0 ? 'mining' : '';
  }
}

function byTimeThenRig(a: PledgePoll, b: PledgePoll): number {
  return a.at_ms - b.at_ms || (a.rig_id < b.rig_id ? -1 : a.rig_id > b.rig_id ? 1 : 0);
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

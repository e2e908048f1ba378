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
import { InfluxReader, ms, num, rowsOf } from '../collector/influx-read.js';
import type { InfluxRollupsOptions } from '../collector/influx-rollups.js';
import { InfluxRollups } from '../collector/influx-rollups.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { LoanErrors } from './errors.js';
import type { PledgePoll } from './pledges.js';
import type { DataProvenance, LoanDataSource, LoanHours } from './source.js';
import { siteHours } from './source.js';

/** Most rigs one replay reads (series per query). */
const MAX_RIGS = 20_000;

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

  async polls(fromMs: number, toMs: number): Promise<PledgePoll[]> {
    if (!(toMs > fromMs)) return [];
    // A rig polled more often than the interval (two writers, a shorter interval) still fits, four times over.
    const limit = Math.ceil(((toMs - fromMs) / this.#intervalMs) * 4) + 100;
    const where = `WHERE time >= ${ms(fromMs)} AND time < ${ms(toMs)}`;
    const bounds = `GROUP BY "rig" LIMIT ${limit} SLIMIT ${MAX_RIGS}`;
    const [polls, rigs] = await this.#influx.query(
      [
        `SELECT "up" FROM ${this.#influx.from('poll')} ${where} ${bounds}`,
        `SELECT "hashrate_hs", "board_count", "state", "model", "firmware" FROM ${this.#influx.from('rig')} ${where} ${bounds}`,
      ],
      {},
    );
    const readings = new Map<string, Record<string, unknown>>();
    for (const s of rigs ?? []) {
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
    return out.sort((a, b) => a.at_ms - b.at_ms || (a.rig_id < b.rig_id ? -1 : a.rig_id > b.rig_id ? 1 : 0));
  }

  /** The state tag; when the sink does not write it, > 0 H/s counts as mining. */
  #state(tag: unknown, hashrate: number | null): string {
    if (this.#stateTag) return typeof tag === 'string' ? tag : '';
    return hashrate !== null && hashrate > 0 ? 'mining' : '';
  }
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/**
 * Economics over a period, from the embedded store's hourly rollups and the recorded market values.
 *
 * Measured inputs per rig-hour: work = mean hashrate while hashing × seconds mining or curtailed (TH·s), and
 * the rollup's integrated energy (Wh) attributed to the hour's weakest power source (pdu < miner < estimate),
 * so a mixed hour is never counted as better measured than it was. Measurements enter the exact arithmetic at
 * 1e-6 TH·s and 1 mWh. Revenue is expected value from measured hashrate (never nameplate), cut at every
 * difficulty, reward and daily-price change in the site zone.
 *
 * Missing is not zero: a day lacking a market input, a rig-day with a power gap, or polls not answered make
 * the report `incomplete` with the reasons listed; what can be computed is still shown.
 */

import {
  addCostLines,
  allInCost,
  breakEvenHashprice,
  breakEvenPowerPrice,
  type CostLines,
  cashCost,
  costPerBtc,
  cutSegments,
  daysBetween,
  decimal,
  demandCharge,
  emptyCostLines,
  energyOnlyCost,
  hashprice,
  joulesPerTh,
  type LocalDay,
  type MarketKey,
  MICRO_PER_USD,
  poolFeeOf,
  proratedMonthly,
  Ratio,
  ROUNDING,
  rateAt,
  revenueBySegment,
  SATS_PER_BTC,
  type Segment,
  safeInt,
  type TariffSpec,
  type WorkHour,
} from '../../economics/index.js';
import { marketSeries } from '../market/inputs.js';
import type { MarketStore } from '../market/store.js';
import type { RollupRow } from '../sinks/embedded.js';

const HOUR = 3_600_000;
const SOURCES = ['pdu', 'miner', 'estimate'] as const;
type Source = (typeof SOURCES)[number];
export type Group = 'fleet' | 'rig' | 'model' | 'rack';
/** Most reasons listed of one kind; the rest are counted. */
const MAX_REASONS = 200;

export interface RollupSource {
  rigIds(): string[];
  rollups(rigId: string, fromMs: number, toMs: number): RollupRow[];
}

/** Rollups read over the network before a report (InfluxDB in a standalone `rigtel api`). */
export interface RollupLoader {
  load(fromMs: number, toMs: number): Promise<RollupSource>;
}

export interface RigMeta {
  model: string | null;
  rack: string | null;
}

export interface EconomicsSettings {
  timezone: string;
  pool_fee: number;
  payout_scheme: 'fpps' | 'pps' | 'pplns';
  tariff: TariffSpec | null;
  hosting_usd_per_kwh: number;
  hosting_usd_per_rig_month: number;
  other_opex_usd_per_month: number;
  depreciation_usd_per_rig_month: number;
  depreciation_usd_per_model_month: Record<string, number>;
  curtailment_credits: { date: string; usd: number; note?: string | undefined }[];
  fees_valid_ms: number;
  /** Poll interval: expected polls in hours the store has no row for, and the power-gap tolerance. */
  interval_ms: number;
}

export interface ReportInput {
  rollups: RollupSource;
  market: MarketStore;
  settings: EconomicsSettings;
  /**
   * A rig id's model and rack. Given the period (grouped by rack only: it may cost a store lookup per rig), the
   * rack where the id was polled then (an id no longer live still had a place); without it, its current rack.
   */
  meta: (rigId: string, fromMs?: number, toMs?: number) => RigMeta;
  fromMs: number;
  toMs: number;
  group: Group;
  nowMs: number;
}

export type Reason =
  | { kind: 'market'; date: string; missing: string[]; hours: number }
  | { kind: 'power_gap'; date: string; rig_id: string; covered_h: number; expected_h: number }
  | { kind: 'polls'; date: string; rig_id: string; polls_expected: number; polls_answered: number }
  | { kind: 'no_tariff' }
  | { kind: 'truncated'; of: string; more: number };

/** Per rig-hour, in integer units. */
interface Hour {
  hour_ms: number;
  work_uths: bigint;
  mwh: bigint;
  source: Source | null;
  energy_s: number;
  polls_expected: number;
  polls_ok: number;
}

interface Acc {
  rigs: Set<string>;
  work: Map<number, bigint>;
  mwh: Map<number, bigint>;
  mwhBySource: Record<Source, bigint>;
  mwhNoSource: bigint;
  pollsExpected: number;
  pollsOk: number;
  powerExpectedS: number;
  powerCoveredS: number;
}

function newAcc(): Acc {
  return {
    rigs: new Set(),
    work: new Map(),
    mwh: new Map(),
    mwhBySource: { pdu: 0n, miner: 0n, estimate: 0n },
    mwhNoSource: 0n,
    pollsExpected: 0,
    pollsOk: 0,
    powerExpectedS: 0,
    powerCoveredS: 0,
  };
}

function toHour(r: RollupRow): Hour {
  const hashingS = r.mining_s + r.curtailed_s;
  const ths = r.hashrate_hs === null ? 0 : (r.hashrate_hs / 1e12) * hashingS;
  return {
    hour_ms: r.hour_ms,
    work_uths: BigInt(Math.round(ths * 1e6)),
    mwh: r.energy_wh === null ? 0n : BigInt(Math.round(r.energy_wh * 1000)),
    source: r.power_source,
    energy_s: r.energy_wh === null ? 0 : r.covered_s,
    polls_expected: r.polls_expected,
    polls_ok: r.polls_ok,
  };
}

/** Fraction of [hour, hour+1h) inside [from, to). */
function inside(hourMs: number, fromMs: number, toMs: number): Ratio {
  const a = Math.max(fromMs, hourMs);
  const b = Math.min(toMs, hourMs + HOUR);
  if (b <= a) return Ratio.ZERO;
  return b - a === HOUR ? new Ratio(1n) : new Ratio(BigInt(b - a), BigInt(HOUR));
}

const int = (r: Ratio | null, field: string) => (r === null ? null : safeInt(r.round(), field));
const kwhNum = (mwh: Ratio) => Number(mwh.div(1000n).mul(1000n).round()) / 1000 / 1000;

export interface Figures {
  rigs: number;
  hashrate_avg_ths: number | null;
  work_th_s: number;
  revenue: {
    expected_sats: number;
    expected_usd_micro: number;
    /** Expected sats in segments with no price (their dollars are not in expected_usd_micro). */
    sats_without_price: number;
    net_sats: number;
    net_usd_micro: number;
    pool_fee: number;
  };
  energy: {
    kwh: number;
    kwh_by_source: Record<Source | 'unknown', number>;
    share_by_source: Record<Source | 'unknown', number | null>;
  };
  costs_usd_micro: Record<keyof CostLines | 'energy_only' | 'cash' | 'all_in', number> | null;
  cost_per_btc_usd_micro: { energy_only: number; cash: number; all_in: number } | null;
  j_per_th: number | null;
  break_even: { power_usd_per_kwh_micro: number | null; hashprice_usd_per_th_day_micro: number | null };
  realized_usd_per_th_day_micro: number | null;
  network_hashprice_usd_per_th_day_micro: number | null;
  coverage: {
    polls_expected: number;
    polls_answered: number;
    power_expected_h: number;
    power_covered_h: number;
  };
}

interface Money {
  sats: Ratio;
  usd: Ratio;
  satsNoPrice: Ratio;
  workPriced: Ratio;
  work: Ratio;
  hpWeighted: Ratio;
  hpMs: bigint;
}

function revenue(
  work: Map<number, bigint>,
  segments: Segment<MarketKey, Ratio>[],
  within?: (seg: Segment<MarketKey, Ratio>) => boolean,
): Money {
  const hours: WorkHour[] = [...work].map(([hour_ms, u]) => ({ hour_ms, th_s: new Ratio(u, 1_000_000n) }));
  const segs = within ? segments.filter(within) : segments;
  let sats = Ratio.ZERO;
  let usd = Ratio.ZERO;
  let satsNoPrice = Ratio.ZERO;
  let workPriced = Ratio.ZERO;
  let workAll = Ratio.ZERO;
  let hpWeighted = Ratio.ZERO;
  let hpMs = 0n;
  const rev = revenueBySegment(hours, segs);
  for (let i = 0; i < rev.length; i++) {
    const r = rev[i]!;
    const seg = segs[i]!;
    workAll = workAll.add(r.th_s);
    if (r.sats) sats = sats.add(r.sats);
    if (r.micro_usd) {
      usd = usd.add(r.micro_usd);
      workPriced = workPriced.add(r.th_s);
    } else if (r.sats) satsNoPrice = satsNoPrice.add(r.sats);
    const d = seg.values.difficulty?.value;
    const w = seg.values.reward_sats?.value;
    const p = seg.values.price_micro_usd?.value;
    if (d && w && p) {
      const dur = BigInt(seg.to_ms - seg.from_ms);
      hpWeighted = hpWeighted.add(hashprice(d, w, p).hashprice_micro_usd_per_th_day.mul(dur));
      hpMs += dur;
    }
  }
  return { sats, usd, satsNoPrice, workPriced, work: workAll, hpWeighted, hpMs };
}

export interface EconomicsReport {
  from_ms: number;
  to_ms: number;
  timezone: string;
  group: Group;
  rounding: string;
  payout_scheme: string;
  complete: boolean;
  incomplete: Reason[];
  market_sources: string[];
  totals: Figures;
  groups: (Figures & { key: string })[];
  days: {
    date: string;
    start_ms: number;
    end_ms: number;
    hours: number;
    complete: boolean;
    expected_sats: number;
    expected_usd_micro: number | null;
    kwh: number;
    kwh_by_source: Record<Source | 'unknown', number>;
    energy_cost_usd_micro: number | null;
    btc_price_usd: number | null;
  }[];
  notes: string[];
}

export function economicsReport(input: ReportInput): EconomicsReport {
  const { settings: s, fromMs, toMs } = input;
  const tz = s.timezone;
  const poolFee = poolFeeOf(s.pool_fee);
  const keep = new Ratio(1n).sub(poolFee);
  const days = daysBetween(fromMs, toMs, tz);
  const series = marketSeries(input.market, fromMs, toMs, tz, s.fees_valid_ms);
  const segments = cutSegments(fromMs, toMs, series.steps, series.dayCuts, series.validUntil);
  const reasons: Reason[] = [];
  const counts = new Map<string, number>();
  const reason = (r: Reason) => {
    const n = (counts.get(r.kind) ?? 0) + 1;
    counts.set(r.kind, n);
    if (n <= MAX_REASONS) reasons.push(r);
  };

  // Market gaps by day.
  const dayOf = (ms: number): LocalDay => days.find((d) => ms >= d.start_ms && ms < d.end_ms) ?? days[0]!;
  const marketMissing = new Map<string, { missing: Set<string>; ms: number }>();
  for (const seg of segments) {
    const miss = (Object.keys(seg.values) as MarketKey[]).filter((k) => seg.values[k] === null);
    if (!miss.length) continue;
    const d = dayOf(seg.from_ms).date;
    const m = marketMissing.get(d) ?? { missing: new Set(), ms: 0 };
    for (const k of miss)
      m.missing.add(k === 'reward_sats' ? 'block_reward' : k === 'price_micro_usd' ? 'price_usd' : k);
    m.ms += seg.to_ms - seg.from_ms;
    marketMissing.set(d, m);
  }
  for (const [date, m] of marketMissing) {
    reason({
      kind: 'market',
      date,
      missing: [...m.missing].sort(),
      hours: Math.round((m.ms / HOUR) * 100) / 100,
    });
  }
  if (!s.tariff) reason({ kind: 'no_tariff' });

  // Rollups into group accumulators.
  const fleet = newAcc();
  const groups = new Map<string, Acc>();
  const dayAcc = new Map<string, Acc>();
  const qFrom = Math.floor(fromMs / HOUR) * HOUR;
  const endMs = Math.min(toMs, input.nowMs);
  const rigModel = new Map<string, string | null>();
  for (const rigId of input.rollups.rigIds()) {
    const rows = input.rollups.rollups(rigId, qFrom, toMs).map(toHour);
    if (!rows.length) continue;
    const meta = input.group === 'rack' ? input.meta(rigId, fromMs, toMs) : input.meta(rigId);
    rigModel.set(rigId, meta.model);
    const key =
      input.group === 'rig'
        ? rigId
        : input.group === 'model'
          ? (meta.model ?? 'unknown')
          : (meta.rack ?? 'unknown');
    const accs = [fleet];
    if (input.group !== 'fleet') {
      const g = groups.get(key) ?? newAcc();
      groups.set(key, g);
      accs.push(g);
    }
    // The rig's first sighting: its first hour expects polls only from then (polls_expected = rest of the hour).
    const first = rows[0]!;
    const seenMs = first.hour_ms + HOUR - Math.min(HOUR, Math.round(first.polls_expected * s.interval_ms));
    const firstMs = Math.max(fromMs, seenMs);
    const perDay = new Map<
      string,
      { covered: number; pollsExp: number; pollsOk: number; rowHours: Set<number> }
    >();
    for (const h of rows) {
      const f = inside(h.hour_ms, fromMs, toMs);
      if (f.isZero()) continue;
      const day = dayOf(Math.max(h.hour_ms, fromMs));
      const whole = f.num === f.den;
      const w = whole ? h.work_uths : f.mul(h.work_uths).round();
      const e = whole ? h.mwh : f.mul(h.mwh).round();
      const share = whole ? 1 : f.toNumber();
      const da = dayAcc.get(day.date) ?? newAcc();
      dayAcc.set(day.date, da);
      accs.push(da);
      for (const a of accs) {
        a.rigs.add(rigId);
        a.work.set(h.hour_ms, (a.work.get(h.hour_ms) ?? 0n) + w);
        a.mwh.set(h.hour_ms, (a.mwh.get(h.hour_ms) ?? 0n) + e);
        if (h.source) a.mwhBySource[h.source] += e;
        else a.mwhNoSource += e;
      }
      accs.pop();
      const pd = perDay.get(day.date) ?? { covered: 0, pollsExp: 0, pollsOk: 0, rowHours: new Set() };
      pd.covered += h.energy_s * share;
      pd.pollsExp += h.polls_expected * share;
      pd.pollsOk += h.polls_ok * share;
      pd.rowHours.add(h.hour_ms);
      perDay.set(day.date, pd);
    }
    // Coverage per rig-day: expected from the rig's first hour in the period up to now.
    for (const day of days) {
      const a = Math.max(day.start_ms, firstMs);
      const b = Math.min(day.end_ms, endMs);
      if (b <= a) continue;
      const expectedS = (b - a) / 1000;
      const pd = perDay.get(day.date) ?? { covered: 0, pollsExp: 0, pollsOk: 0, rowHours: new Set<number>() };
      // Hours without any row (collector down) still expected polls.
      let missingHoursMs = 0;
      for (let t = Math.floor(a / HOUR) * HOUR; t < b; t += HOUR) {
        if (!pd.rowHours.has(t)) missingHoursMs += Math.min(b, t + HOUR) - Math.max(a, t);
      }
      const pollsExp = pd.pollsExp + missingHoursMs / s.interval_ms;
      const da = dayAcc.get(day.date) ?? newAcc();
      dayAcc.set(day.date, da);
      for (const acc of [...accs, da]) {
        acc.pollsExpected += pollsExp;
        acc.pollsOk += pd.pollsOk;
        acc.powerExpectedS += expectedS;
        acc.powerCoveredS += Math.min(expectedS, pd.covered);
      }
      const tolerance = Math.max((2 * s.interval_ms) / 1000, expectedS * 0.01);
      if (expectedS - pd.covered > tolerance) {
        reason({
          kind: 'power_gap',
          date: day.date,
          rig_id: rigId,
          covered_h: Math.round((pd.covered / 3600) * 100) / 100,
          expected_h: Math.round((expectedS / 3600) * 100) / 100,
        });
      }
      if (pollsExp - pd.pollsOk > Math.max(2, pollsExp * 0.01)) {
        reason({
          kind: 'polls',
          date: day.date,
          rig_id: rigId,
          polls_expected: Math.round(pollsExp),
          polls_answered: Math.round(pd.pollsOk),
        });
      }
    }
  }
  for (const [kind, n] of counts)
    if (n > MAX_REASONS) reasons.push({ kind: 'truncated', of: kind, more: n - MAX_REASONS });

  const rates = new Map<number, Ratio>();
  const distinctRates = new Map<string, Ratio>();
  const rate = (hourMs: number) => {
    const cached = rates.get(hourMs);
    if (cached || !s.tariff) return cached ?? null;
    const fresh = rateAt(s.tariff, hourMs, tz).micro_usd_per_kwh;
    const key = `${fresh.num}/${fresh.den}`;
    const r = distinctRates.get(key) ?? fresh;
    distinctRates.set(key, r);
    rates.set(hourMs, r);
    return r;
  };
  // Energy cost: mWh summed per distinct rate (a tariff has few), then one multiplication per rate.
  const energyCostOf = (mwhByHour: Map<number, bigint>): Ratio => {
    const byRate = new Map<Ratio, bigint>();
    for (const [h, e] of mwhByHour) {
      const r = rate(h)!;
      byRate.set(r, (byRate.get(r) ?? 0n) + e);
    }
    let total = Ratio.ZERO;
    for (const [r, e] of byRate) total = total.add(r.mul(e).div(1_000_000n));
    return total;
  };
  const monthly = new Map<number, Ratio>();
  const monthlyPerRig = (usd: number) => {
    const cached = monthly.get(usd);
    if (cached) return cached;
    const v = proratedMonthly(usd, fromMs, toMs, tz);
    monthly.set(usd, v);
    return v;
  };

  const figures = (acc: Acc, site: boolean): Figures => {
    const m = revenue(acc.work, segments);
    const mwh = [...acc.mwh.values()].reduce((x, y) => x + y, 0n);
    const kwh = new Ratio(mwh, 1_000_000n);
    const c = emptyCostLines();
    let costs: Figures['costs_usd_micro'] = null;
    if (s.tariff) {
      c.energy = energyCostOf(acc.mwh);
      if (site && (s.tariff.demand_usd_per_kw_month ?? 0) > 0) {
        const kw = new Map<number, Ratio>();
        for (const [h, e] of acc.mwh) kw.set(h, new Ratio(e, 1_000_000n).div(inside(h, fromMs, toMs)));
        c.demand = demandCharge(kw, s.tariff.demand_usd_per_kw_month ?? 0, fromMs, toMs, tz).micro_usd;
      }
    }
    c.hosting = kwh.mul(decimal(s.hosting_usd_per_kwh).mul(MICRO_PER_USD));
    if (s.hosting_usd_per_rig_month > 0)
      c.hosting = c.hosting.add(monthlyPerRig(s.hosting_usd_per_rig_month).mul(BigInt(acc.rigs.size)));
    for (const rig of acc.rigs) {
      const model = rigModel.get(rig);
      const per =
        (model ? s.depreciation_usd_per_model_month[model] : undefined) ?? s.depreciation_usd_per_rig_month;
      if (per > 0) c.depreciation = c.depreciation.add(monthlyPerRig(per));
    }
    if (site) {
      if (s.other_opex_usd_per_month > 0) c.other_opex = monthlyPerRig(s.other_opex_usd_per_month);
      for (const cr of s.curtailment_credits) {
        if (days.some((d) => d.date === cr.date))
          c.curtailment_credits = c.curtailment_credits.sub(decimal(cr.usd).mul(MICRO_PER_USD));
      }
    }
    c.pool_fees = m.usd.mul(poolFee);
    if (s.tariff) {
      costs = {} as NonNullable<Figures['costs_usd_micro']>;
      for (const k of Object.keys(c) as (keyof CostLines)[]) costs[k] = int(c[k], k)!;
      costs.energy_only = int(energyOnlyCost(c), 'energy_only')!;
      costs.cash = int(cashCost(c), 'cash')!;
      costs.all_in = int(allInCost(c), 'all_in')!;
    }
    const per = s.tariff ? costPerBtc(c, m.sats) : null;
    const thDays = m.work.div(86_400n);
    const thDaysPriced = m.workPriced.div(86_400n);
    const byKwh = (x: bigint) => Number(new Ratio(x, 1000n).round()) / 1000;
    const kwhBy = {
      pdu: byKwh(acc.mwhBySource.pdu),
      miner: byKwh(acc.mwhBySource.miner),
      estimate: byKwh(acc.mwhBySource.estimate),
      unknown: byKwh(acc.mwhNoSource),
    };
    const share = (x: bigint) =>
      mwh > 0n ? Math.round(new Ratio(x * 10_000n, mwh).toNumber()) / 10_000 : null;
    const periodS = (Math.min(toMs, input.nowMs) - fromMs) / 1000;
    // Pool fees are charged on dollars: break-even per kWh uses dollars after the fee over priced energy.
    const netUsd = m.usd.mul(keep);
    return {
      rigs: acc.rigs.size,
      hashrate_avg_ths: periodS > 0 ? Math.round((m.work.toNumber() / periodS) * 1000) / 1000 : null,
      work_th_s: Math.round(m.work.toNumber() * 1000) / 1000,
      revenue: {
        expected_sats: int(m.sats, 'expected_sats')!,
        expected_usd_micro: int(m.usd, 'expected_usd_micro')!,
        sats_without_price: int(m.satsNoPrice, 'sats_without_price')!,
        net_sats: int(m.sats.mul(keep), 'net_sats')!,
        net_usd_micro: int(netUsd, 'net_usd_micro')!,
        pool_fee: s.pool_fee,
      },
      energy: {
        kwh: kwhNum(new Ratio(mwh)),
        kwh_by_source: kwhBy,
        share_by_source: {
          pdu: share(acc.mwhBySource.pdu),
          miner: share(acc.mwhBySource.miner),
          estimate: share(acc.mwhBySource.estimate),
          unknown: share(acc.mwhNoSource),
        },
      },
      costs_usd_micro: costs,
      cost_per_btc_usd_micro: per
        ? {
            energy_only: int(per.energy_only, 'cost_per_btc')!,
            cash: int(per.cash, 'cost_per_btc')!,
            all_in: int(per.all_in, 'cost_per_btc')!,
          }
        : null,
      j_per_th: (() => {
        const j = joulesPerTh(new Ratio(mwh, 1000n), m.work);
        return j ? Math.round(j.toNumber() * 100) / 100 : null;
      })(),
      break_even: {
        power_usd_per_kwh_micro: int(breakEvenPowerPrice(netUsd, kwh), 'break_even'),
        hashprice_usd_per_th_day_micro: s.tariff
          ? int(breakEvenHashprice(c, thDays, poolFee), 'break_even')
          : null,
      },
      realized_usd_per_th_day_micro:
        thDaysPriced.sign() > 0 ? int(netUsd.div(thDaysPriced), 'realized') : null,
      network_hashprice_usd_per_th_day_micro: m.hpMs > 0n ? int(m.hpWeighted.div(m.hpMs), 'hashprice') : null,
      coverage: {
        polls_expected: Math.round(acc.pollsExpected),
        polls_answered: Math.round(acc.pollsOk),
        power_expected_h: Math.round((acc.powerExpectedS / 3600) * 100) / 100,
        power_covered_h: Math.round((acc.powerCoveredS / 3600) * 100) / 100,
      },
    };
  };

  const dayRows = days.map((d) => {
    const acc = dayAcc.get(d.date) ?? newAcc();
    const m = revenue(acc.work, segments, (seg) => seg.from_ms >= d.start_ms && seg.from_ms < d.end_ms);
    let energy: Ratio | null = null;
    if (s.tariff) {
      energy = energyCostOf(acc.mwh);
    }
    const mwh = [...acc.mwh.values()].reduce((x, y) => x + y, 0n);
    const priceStep = series.steps.price_micro_usd.find((p) => p.at_ms === d.start_ms);
    const byKwh = (x: bigint) => Number(new Ratio(x, 1000n).round()) / 1000;
    return {
      date: d.date,
      start_ms: d.start_ms,
      end_ms: d.end_ms,
      hours: (d.end_ms - d.start_ms) / HOUR,
      complete: !reasons.some((r) => 'date' in r && r.date === d.date),
      expected_sats: int(m.sats, 'expected_sats')!,
      expected_usd_micro: m.satsNoPrice.isZero() ? int(m.usd, 'expected_usd_micro') : null,
      kwh: kwhNum(new Ratio(mwh)),
      kwh_by_source: {
        pdu: byKwh(acc.mwhBySource.pdu),
        miner: byKwh(acc.mwhBySource.miner),
        estimate: byKwh(acc.mwhBySource.estimate),
        unknown: byKwh(acc.mwhNoSource),
      },
      energy_cost_usd_micro: int(energy, 'energy_cost'),
      btc_price_usd: priceStep ? priceStep.value.div(MICRO_PER_USD).toNumber() : null,
    };
  });

  const sources = new Set<string>();
  for (const seg of segments)
    for (const v of Object.values(seg.values)) if (v?.source) sources.add(v.source as string);
  return {
    from_ms: fromMs,
    to_ms: toMs,
    timezone: tz,
    group: input.group,
    rounding: ROUNDING,
    payout_scheme: s.payout_scheme,
    complete: reasons.length === 0,
    incomplete: reasons,
    market_sources: [...sources].sort(),
    totals: figures(fleet, true),
    groups: [...groups]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, acc]) => ({ key, ...figures(acc, false) })),
    days: dayRows,
    notes: [
      'revenue is the expected value from measured hashrate (FPPS-equivalent); the pool fee is its own cost line and net figures are after it',
      'cost per BTC divides by gross expected BTC; energy_only = energy + demand − credits; cash adds hosting, pool fees, other opex; all_in adds depreciation',
      'group rows carry rig-attributable lines only (energy, hosting, pool fees, depreciation); demand, credits and other opex are site lines in totals',
      'energy of an hour is attributed to the weakest power source seen in that hour',
      `BTC per BTC price: money in micro-dollars, BTC in satoshis (${SATS_PER_BTC} per BTC)`,
    ],
  };
}

/** Sum helper for callers combining reports' cost lines. */
export { addCostLines };

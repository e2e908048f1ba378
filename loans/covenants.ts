/**
 * The covenant engine: pure figures over a period from hourly per-rig rollups, the recorded market and the
 * facility. No I/O; `loans/report.ts` feeds it from the store. Formulas (docs/loans.md):
 *
 * - site-covered seconds of an hour = the most any rig of the site had integrated in it (the collector was up);
 *   hours nobody covered are collector gaps: listed, left out of every denominator, never filled;
 * - per pledged rig: expected_s = Σ site-covered seconds; TH·s = Σ hashrate × (mining + curtailed seconds);
 *   measured TH/s = TH·s / expected_s (a rig that vanished, failed or was swapped away counts as 0 hashing);
 *   J/TH = energy J / TH·s; uptime = mining_s / (expected_s − curtailed_s − maintenance_s);
 * - performance ratio = Σ measured TH/s / Σ nameplate TH/s of the pledged rigs;
 * - revenue = expected BTC of the pledged rigs' work, cut at every market change (economics/), × price;
 *   CFADS = revenue − the economics cost lines of the pledged rigs (loans/costs.ts: energy at the tariff's rate
 *   of each local hour, demand, hosting, pool fee, their share of other opex and curtailment credits);
 *   DSCR = CFADS / debt service accrued in the period (loans/schedule.ts);
 * - collateral = Σ TH/s × $/TH of the rig's efficiency tier × (1 − haircut), marked on measured TH/s and J/TH
 *   and, beside it, on nameplate; LTV = balance at period end / measured collateral;
 * - units online = pledged rigs answering as pledged (seen, changed, derated) at period end / pledged rigs.
 */
import type { MarketSeries } from '../collector/market/inputs.js';
import type { RollupRow } from '../collector/sinks/embedded.js';
import type { Facility, LoansConfig } from '../config/sections/loans.js';
import { btcToSats, decimal, MICRO_PER_USD, Ratio } from '../economics/exact.js';
import { type MarketKey, revenueBySegment, type WorkHour } from '../economics/revenue.js';
import { cutSegments, type Step } from '../economics/segments.js';
import { dayStartMs, daysBetween } from '../economics/timezone.js';
import { type LoanCostBasis, loanCashLines } from './costs.js';
import type { PledgeState, PledgeStatus, UnpledgedRig } from './pledges.js';
import type { LoanFacility, PledgedRig } from './register.js';
import { balanceAt, debtSchedule, debtServiceIn } from './schedule.js';

export const FORMULA_VERSION = 'rigtel-loans/2';
const HOUR = 3_600_000;

export type CovenantStatus = 'pass' | 'at_risk' | 'breach' | 'cured';

export interface RigInput {
  pledge: PledgedRig;
  rig_id: string | null;
  rollups: readonly RollupRow[];
}

export interface EngineInput {
  facility: LoanFacility;
  fromMs: number;
  toMs: number;
  tz: string;
  costs: LoanCostBasis;
  /** The whole site's energy per hour (Wh): the loan carries the pledged share of site-wide cost lines. */
  siteWh?: ReadonlyMap<number, number>;
  market: LoansConfig['market'];
  /**
   * The economics market store's series (collector/market), used when `market` (the config's loan series) is
   * empty, with the subsidy in force at the period end for the halving stress.
   */
  recorded?: { series: Pick<MarketSeries, 'steps' | 'validUntil'>; subsidy_sats_at_end: number | null };
  intervalMs: number;
  rigs: readonly RigInput[];
  /** Every rollup hour of the site in the period (hour_ms → most seconds any rig covered). */
  siteCovered: ReadonlyMap<number, number>;
  pledged: readonly PledgeState[];
  unpledged: readonly UnpledgedRig[];
}

export interface RigFigures {
  key: string;
  serial: string | null;
  mac: string | null;
  model: string;
  rig_id: string | null;
  status: PledgeStatus;
  status_since_ms: number;
  detail: string | null;
  nominal_ths: number;
  measured_ths: number;
  j_per_th: number | null;
  energy_kwh: number;
  revenue_usd: number;
  uptime: number | null;
  collateral_measured_usd: number;
  collateral_nameplate_usd: number;
  polls_expected: number;
  polls: number;
  polls_ok: number;
  gap_hours: number;
  /** Hours the site was polled but this rig had no rollup (merged ranges): listed, never filled. */
  gaps: { from_ms: number; to_ms: number }[];
}

export interface CovenantFigure {
  value: number | null;
  threshold: number | null;
  /** `min` or `max`: which side of the threshold passes. */
  bound: 'min' | 'max';
  status: CovenantStatus | null;
  trend: 'improving' | 'worsening' | 'flat' | null;
  daily: { date: string; value: number | null }[];
  breach_since: string | null;
  cure_deadline: string | null;
}

export interface EngineResult {
  rigs: RigFigures[];
  totals: {
    nameplate_ths: number;
    measured_ths: number;
    energy_kwh: number;
    revenue_usd: number;
    revenue_rigs_sum_usd: number;
    /** Null when no tariff is configured (energy not priced). */
    energy_usd: number | null;
    demand_usd: number | null;
    curtailment_credits_usd: number;
    hosting_usd: number;
    pool_fees_usd: number;
    other_opex_usd: number;
    cfads_usd: number | null;
    debt_service_usd: number;
    balance_usd: number;
    collateral_measured_usd: number;
    collateral_nameplate_usd: number;
  };
  covenants: {
    dscr: CovenantFigure;
    ltv: CovenantFigure;
    performance_ratio: CovenantFigure;
    uptime: CovenantFigure;
    units_online: CovenantFigure;
  };
  stress: {
    dscr_hashprice_minus_30: number | null;
    dscr_hashprice_minus_50: number | null;
    dscr_after_halving: number | null;
  };
  coverage: {
    site_hours: number;
    site_gap_hours: { from_ms: number; to_ms: number }[];
    polls_expected: number;
    polls: number;
    polls_ok: number;
  };
  /** Per local day: revenue, CFADS and debt service (the money behind the daily DSCR). */
  daily: {
    date: string;
    revenue_usd: number;
    cfads_usd: number | null;
    debt_service_usd: number;
    energy_kwh: number;
  }[];
  /** Every market value the figures used: the one in force at the start and each change in the period. */
  market_used: Array<{ at: string; kind: string; value: number; source: string }>;
}

interface MarketSteps {
  difficulty: Step<Ratio>[];
  reward_sats: Step<Ratio>[];
  price_micro_usd: Step<Ratio>[];
}

function marketSteps(market: LoansConfig['market']): MarketSteps {
  const sorted = [...market].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const steps: MarketSteps = { difficulty: [], reward_sats: [], price_micro_usd: [] };
  for (const m of sorted) {
    const at = Date.parse(m.at);
    steps.difficulty.push({ at_ms: at, value: decimal(m.difficulty), source: m.source });
    steps.reward_sats.push({
      at_ms: at,
      value: btcToSats(m.subsidy_btc).add(btcToSats(m.fees_btc_per_block)),
      source: m.source,
    });
    steps.price_micro_usd.push({ at_ms: at, value: decimal(m.btc_usd).mul(MICRO_PER_USD), source: m.source });
  }
  return steps;
}

/** Revenue in USD (gross of pool fee) of hourly work over [from, to). */
type ValidUntil = Partial<Record<MarketKey, (s: Step<Ratio>) => number>>;

function revenueUsd(
  hours: readonly WorkHour[],
  steps: MarketSteps,
  fromMs: number,
  toMs: number,
  validUntil: ValidUntil = {},
): number {
  if (hours.length === 0) return 0;
  const segs = cutSegments<MarketKey, Ratio>(fromMs, toMs, steps, [], validUntil);
  let micro = Ratio.ZERO;
  for (const s of revenueBySegment(hours, segs)) if (s.micro_usd) micro = micro.add(s.micro_usd);
  return micro.toNumber() / 1e6;
}

/**
 * USD earned by one TH·s of work in each hour of [from, to): the period is cut at every market change and at
 * every hour, so each hour's rate is exact; per-rig revenue is then work × rate (the fleet total is computed
 * exactly from the summed work and the two are reconciled in the report).
 */
function hourlyRates(
  steps: MarketSteps,
  fromMs: number,
  toMs: number,
  validUntil: ValidUntil = {},
): Map<number, number> {
  const cuts: number[] = [];
  for (let h = fromMs + HOUR; h < toMs; h += HOUR) cuts.push(h);
  const segs = cutSegments<MarketKey, Ratio>(fromMs, toMs, steps, cuts, validUntil);
  const unit: WorkHour[] = [];
  for (let h = fromMs; h < toMs; h += HOUR) unit.push({ hour_ms: h, th_s: new Ratio(1n) });
  const rates = new Map<number, number>();
  for (const seg of revenueBySegment(unit, segs)) {
    const h = Math.floor(seg.from_ms / HOUR) * HOUR;
    rates.set(h, (rates.get(h) ?? 0) + (seg.micro_usd ? seg.micro_usd.toNumber() / 1e6 : 0));
  }
  return rates;
}

/** $/TH of the tier a J/TH falls in (tiers best first; a null bound catches everything). */
export function tierPrice(
  tiers: Facility['collateral']['tiers'],
  jPerTh: number | null,
): { label: string; usd_per_th: number } {
  const last = tiers[tiers.length - 1]!;
  if (jPerTh === null) return last;
  for (const t of tiers) if (t.max_j_per_th === null || jPerTh < t.max_j_per_th) return t;
  return last;
}

function maintenanceSeconds(f: LoanFacility, p: PledgedRig, hourMs: number, covered: number): number {
  let s = 0;
  for (const w of f.maintenance) {
    if (w.serial !== undefined && w.serial !== p.serial) continue;
    const overlap = Math.min(hourMs + HOUR, Date.parse(w.to)) - Math.max(hourMs, Date.parse(w.from));
    if (overlap > 0) s += (covered * overlap) / HOUR;
  }
  return Math.min(s, covered);
}

const ONLINE: ReadonlySet<PledgeStatus> = new Set(['seen', 'changed', 'derated']);

export function computeCovenants(input: EngineInput): EngineResult {
  const { facility: f, tz } = input;
  // Rollups are hourly: work, energy and coverage are taken in whole hours (from rounded down, to rounded up).
  // Debt service and the balance use the period as given.
  const fromMs = Math.floor(input.fromMs / HOUR) * HOUR;
  const toMs = Math.ceil(input.toMs / HOUR) * HOUR;
  const useRecorded = input.market.length === 0 && input.recorded !== undefined;
  const steps: MarketSteps = useRecorded ? input.recorded!.series.steps : marketSteps(input.market);
  const validUntil: ValidUntil = useRecorded ? input.recorded!.series.validUntil : {};
  const days = daysBetween(fromMs, toMs, tz).map((d) => ({
    date: d.date,
    from: Math.max(fromMs, d.start_ms),
    to: Math.min(toMs, d.end_ms),
  }));
  const hoursIn = (a: number, b: number) => [...input.siteCovered.entries()].filter(([h]) => h >= a && h < b);
  const siteCoveredIn = (a: number, b: number) => hoursIn(a, b).reduce((s, [, c]) => s + c, 0);
  const stateOf = new Map(input.pledged.map((s) => [s.key, s]));
  const haircut = 1 - f.collateral.haircut;
  const pollsPerRig = Math.round((input.toMs - input.fromMs) / input.intervalMs);

  const rigs: RigFigures[] = [];
  const rates = hourlyRates(steps, fromMs, toMs, validUntil);
  const dayIndex = new Map<number, number>();
  const dayOfHour = (h: number): number => {
    let i = dayIndex.get(h);
    if (i === undefined) {
      i = days.findIndex((d) => h >= d.from && h < d.to);
      dayIndex.set(h, i);
    }
    return i;
  };
  const fleetTh = new Map<number, number>();
  const fleetWh = new Map<number, number>();
  type Daily = { th_s: number; expected: number; mining: number; denom: number; wh: number; nominal: number };
  const daily = days.map(
    () =>
      ({ th_s: 0, expected: 0, mining: 0, denom: 0, wh: 0, nominal: 0, revenue: 0 }) as Daily & {
        revenue: number;
      },
  );
  let totalUptimeNum = 0;
  let totalUptimeDen = 0;

  for (const r of input.rigs) {
    const p = r.pledge;
    let thS = 0;
    let wh = 0;
    let mining = 0;
    let curtailed = 0;
    let maint = 0;
    let polls = 0;
    let pollsOk = 0;
    let rev = 0;
    const byHour = new Map(r.rollups.map((row) => [row.hour_ms, row]));
    for (const row of r.rollups) {
      if (row.hour_ms < fromMs || row.hour_ms >= toMs) continue;
      const hashingS = row.mining_s + row.curtailed_s;
      const ths = row.hashrate_hs === null ? 0 : (row.hashrate_hs / 1e12) * hashingS;
      thS += ths;
      wh += row.energy_wh ?? 0;
      if (row.energy_wh !== null) fleetWh.set(row.hour_ms, (fleetWh.get(row.hour_ms) ?? 0) + row.energy_wh);
      mining += row.mining_s;
      curtailed += row.curtailed_s;
      polls += row.polls;
      pollsOk += row.polls_ok;
      if (ths > 0) {
        rev += ths * (rates.get(row.hour_ms) ?? 0);
        fleetTh.set(row.hour_ms, (fleetTh.get(row.hour_ms) ?? 0) + ths);
      }
      const di = dayOfHour(row.hour_ms);
      if (di >= 0) {
        const d = daily[di]!;
        d.th_s += ths;
        d.mining += row.mining_s;
        d.denom -= row.curtailed_s;
        d.wh += row.energy_wh ?? 0;
      }
    }
    let expected = 0;
    let gapHours = 0;
    const gaps: { from_ms: number; to_ms: number }[] = [];
    for (const [h, c] of [...input.siteCovered].sort((a, b) => a[0] - b[0])) {
      if (h < fromMs || h >= toMs) continue;
      expected += c;
      // Declared maintenance counts against the site-covered time, whether or not the rig answered then.
      const m = maintenanceSeconds(f, p, h, c);
      maint += m;
      if (!byHour.has(h)) {
        gapHours++;
        const last = gaps.at(-1);
        if (last && last.to_ms === h) last.to_ms = h + HOUR;
        else gaps.push({ from_ms: h, to_ms: h + HOUR });
      }
      const di = dayOfHour(h);
      if (di >= 0) {
        daily[di]!.expected += c;
        daily[di]!.denom += c - m;
      }
    }
    for (const d of daily) d.nominal += p.nominal_ths;
    const measured = expected > 0 ? thS / expected : 0;
    const jPerTh = thS > 0 && wh > 0 ? (wh * 3600) / thS : null;
    const upDen = expected - curtailed - maint;
    totalUptimeNum += mining;
    totalUptimeDen += Math.max(0, upDen);
    const st = stateOf.get(p.key);
    const measuredTier = tierPrice(f.collateral.tiers, jPerTh ?? p.nominal_w / p.nominal_ths);
    const nameplateTier = tierPrice(f.collateral.tiers, p.nominal_w / p.nominal_ths);
    rigs.push({
      key: p.key,
      serial: p.serial ?? null,
      mac: p.mac_norm,
      model: p.model,
      rig_id: r.rig_id,
      status: st?.status ?? 'missing',
      status_since_ms: st?.since_ms ?? fromMs,
      detail: st?.detail ?? null,
      nominal_ths: p.nominal_ths,
      measured_ths: measured,
      j_per_th: jPerTh,
      energy_kwh: wh / 1000,
      revenue_usd: rev,
      uptime: upDen > 0 ? Math.min(1, mining / upDen) : null,
      collateral_measured_usd: measured * measuredTier.usd_per_th * haircut,
      collateral_nameplate_usd: p.nominal_ths * nameplateTier.usd_per_th * haircut,
      polls_expected: pollsPerRig,
      polls,
      polls_ok: pollsOk,
      gap_hours: gapHours,
      gaps,
    });
  }

  // Fleet revenue from the summed work, exact (money core), as the check on the per-rig sum.
  const fleetWork: WorkHour[] = [...fleetTh.entries()].map(([hour_ms, th]) => ({
    hour_ms,
    th_s: decimal(th),
  }));
  const revenue = revenueUsd(fleetWork, steps, fromMs, toMs, validUntil);

  const energyKwh = rigs.reduce((s, r) => s + r.energy_kwh, 0);
  const cashLines = (rev: number, a: number, b: number) =>
    loanCashLines(input.costs, {
      revenue_usd: rev,
      pledgedWh: fleetWh,
      siteWh: input.siteWh,
      rigs: input.rigs.length,
      fromMs: a,
      toMs: b,
      tz,
    });
  const lines = cashLines(revenue, input.fromMs, input.toMs);
  const startMs = dayStartMs(f.start, tz);
  const schedule = debtSchedule(f, tz);
  const debtService = debtServiceIn(schedule, startMs, input.fromMs, input.toMs);
  const balance = balanceAt(f, schedule, startMs, input.toMs);
  const collateralMeasured = rigs.reduce((s, r) => s + r.collateral_measured_usd, 0);
  const collateralNameplate = rigs.reduce((s, r) => s + r.collateral_nameplate_usd, 0);
  const nameplate = rigs.reduce((s, r) => s + r.nominal_ths, 0);
  const measured = rigs.reduce((s, r) => s + r.measured_ths, 0);
  const online = rigs.filter((r) => ONLINE.has(r.status)).length;

  const dscr = debtService > 0 && lines.cfads !== null ? lines.cfads / debtService : null;
  const stressed = (k: number) => {
    const c = cashLines(revenue * k, input.fromMs, input.toMs).cfads;
    return debtService > 0 && c !== null ? c / debtService : null;
  };
  let halvingFactor: number | null = null;
  if (useRecorded) {
    // (S/2 + F) / (S + F) with S + F the reward in force at the end and S the subsidy then.
    const reward =
      [...steps.reward_sats]
        .filter((r) => r.at_ms < input.toMs)
        .at(-1)
        ?.value.toNumber() ?? null;
    const sub = input.recorded!.subsidy_sats_at_end;
    if (reward && sub !== null && reward > 0) halvingFactor = (reward - sub / 2) / reward;
  } else {
    const last = [...input.market]
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
      .filter((m) => Date.parse(m.at) < input.toMs)
      .at(-1);
    halvingFactor = last
      ? (last.subsidy_btc / 2 + last.fees_btc_per_block) / (last.subsidy_btc + last.fees_btc_per_block)
      : null;
  }

  // Daily series for trend and cure.
  const dailyMoney: EngineResult['daily'] = [];
  const dailyDscr = days.map((d, i) => {
    const dd = daily[i]!;
    let rev = 0;
    for (const [h, th] of fleetTh) if (h >= d.from && h < d.to) rev += th * (rates.get(h) ?? 0);
    const kwh = dd.wh / 1000;
    const ds = debtServiceIn(schedule, startMs, d.from, d.to);
    const c = cashLines(rev, d.from, d.to);
    dailyMoney.push({
      date: d.date,
      revenue_usd: rev,
      cfads_usd: c.cfads,
      debt_service_usd: ds,
      energy_kwh: kwh,
    });
    return { date: d.date, value: ds > 0 && dd.expected > 0 && c.cfads !== null ? c.cfads / ds : null };
  });
  // Performance per day: Σ rig TH·s / site-covered seconds / Σ nameplate.
  const dailyPerf = days.map((d, i) => {
    const exp = siteCoveredIn(d.from, d.to);
    return { date: d.date, value: exp > 0 && nameplate > 0 ? daily[i]!.th_s / exp / nameplate : null };
  });
  const dailyUptime = days.map((d, i) => ({
    date: d.date,
    value: daily[i]!.denom > 0 ? Math.min(1, daily[i]!.mining / daily[i]!.denom) : null,
  }));
  const dailyLtv = days.map((d) => ({ date: d.date, value: null as number | null }));
  dailyLtv.forEach((d, i) => {
    const exp = siteCoveredIn(days[i]!.from, days[i]!.to);
    if (exp <= 0) return;
    // Collateral marked on the day's measured TH/s share of the period mark.
    const share = measured > 0 ? daily[i]!.th_s / exp / measured : 0;
    const coll = collateralMeasured * share;
    d.value = coll > 0 ? balanceAt(f, schedule, startMs, days[i]!.to) / coll : null;
  });

  const cov = f.covenants;
  const perfValue = nameplate > 0 ? measured / nameplate : null;
  const uptimeValue = totalUptimeDen > 0 ? Math.min(1, totalUptimeNum / totalUptimeDen) : null;
  const ltvValue = collateralMeasured > 0 ? balance / collateralMeasured : null;
  const unitsValue = rigs.length > 0 ? online / rigs.length : null;
  const siteHours = [...input.siteCovered.keys()].filter((h) => h >= fromMs && h < toMs);
  return {
    rigs,
    totals: {
      nameplate_ths: nameplate,
      measured_ths: measured,
      energy_kwh: energyKwh,
      revenue_usd: revenue,
      revenue_rigs_sum_usd: rigs.reduce((s, r) => s + r.revenue_usd, 0),
      energy_usd: lines.energy,
      demand_usd: lines.demand,
      curtailment_credits_usd: lines.curtailment_credits,
      hosting_usd: lines.hosting,
      pool_fees_usd: lines.pool,
      other_opex_usd: lines.other,
      cfads_usd: lines.cfads,
      debt_service_usd: debtService,
      balance_usd: balance,
      collateral_measured_usd: collateralMeasured,
      collateral_nameplate_usd: collateralNameplate,
    },
    covenants: {
      dscr: judge(dscr, cov.min_dscr, 'min', dailyDscr, tz),
      ltv: judge(ltvValue, cov.max_ltv, 'max', dailyLtv, tz),
      performance_ratio: judge(perfValue, cov.min_performance_ratio, 'min', dailyPerf, tz),
      uptime: judge(uptimeValue, cov.min_uptime, 'min', dailyUptime, tz),
      units_online: judge(
        unitsValue,
        cov.min_units_online,
        'min',
        [{ date: days.at(-1)?.date ?? '', value: unitsValue }],
        tz,
      ),
    },
    stress: {
      dscr_hashprice_minus_30: stressed(0.7),
      dscr_hashprice_minus_50: stressed(0.5),
      dscr_after_halving: halvingFactor === null ? null : stressed(halvingFactor),
    },
    coverage: {
      site_hours: siteHours.length,
      site_gap_hours: gapsOf(fromMs, toMs, new Set(siteHours)),
      polls_expected: pollsPerRig * rigs.length,
      polls: rigs.reduce((s, r) => s + r.polls, 0),
      polls_ok: rigs.reduce((s, r) => s + r.polls_ok, 0),
    },
    daily: dailyMoney,
    market_used: marketUsed(steps, fromMs, toMs),
  };
}

const MARKET_UNITS: Record<MarketKey, { kind: string; scale: number }> = {
  difficulty: { kind: 'difficulty', scale: 1 },
  reward_sats: { kind: 'reward_btc_per_block', scale: 1e-8 },
  price_micro_usd: { kind: 'btc_usd', scale: 1e-6 },
};

function marketUsed(steps: MarketSteps, fromMs: number, toMs: number): EngineResult['market_used'] {
  const out: EngineResult['market_used'] = [];
  for (const key of Object.keys(MARKET_UNITS) as MarketKey[]) {
    const list = steps[key];
    list.forEach((s, i) => {
      const next = list[i + 1];
      if (s.at_ms >= toMs || (s.at_ms < fromMs && next && next.at_ms <= fromMs)) return;
      const u = MARKET_UNITS[key];
      out.push({
        at: new Date(s.at_ms).toISOString(),
        kind: u.kind,
        value: Number((s.value.toNumber() * u.scale).toPrecision(12)),
        source: s.source ?? 'unknown',
      });
    });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at) || a.kind.localeCompare(b.kind));
}

function gapsOf(
  fromMs: number,
  toMs: number,
  hours: ReadonlySet<number>,
): { from_ms: number; to_ms: number }[] {
  const out: { from_ms: number; to_ms: number }[] = [];
  for (let h = Math.floor(fromMs / HOUR) * HOUR; h < toMs; h += HOUR) {
    if (hours.has(h)) continue;
    const a = Math.max(h, fromMs);
    const b = Math.min(h + HOUR, toMs);
    const prev = out.at(-1);
    if (prev && prev.to_ms === a) prev.to_ms = b;
    else out.push({ from_ms: a, to_ms: b });
  }
  return out;
}

type CovenantCfg = { threshold: number; cure_days: number; at_risk_margin: number } | undefined;

/**
 * Status of one figure: `breach` when the period value (or the last day) is on the wrong side of the threshold;
 * `cured` when a day breached but the breach ended within its cure period; `at_risk` within the margin;
 * else `pass`. Trend compares the last day with the first.
 */
export function judge(
  value: number | null,
  cfg: CovenantCfg,
  bound: 'min' | 'max',
  daily: { date: string; value: number | null }[],
  _tz: string,
): CovenantFigure {
  const bad = (v: number) => (cfg ? (bound === 'min' ? v < cfg.threshold : v > cfg.threshold) : false);
  const known = daily.filter((d) => d.value !== null) as { date: string; value: number }[];
  let trend: CovenantFigure['trend'] = null;
  if (known.length >= 2) {
    const delta = known.at(-1)!.value - known[0]!.value;
    const better = bound === 'min' ? delta > 0 : delta < 0;
    trend = Math.abs(delta) < 1e-9 ? 'flat' : better ? 'improving' : 'worsening';
  }
  let status: CovenantStatus | null = null;
  let since: string | null = null;
  let deadline: string | null = null;
  if (cfg && value !== null) {
    // The last run of breached days.
    let runStart = -1;
    for (let i = known.length - 1; i >= 0; i--) {
      if (bad(known[i]!.value)) runStart = i;
      else if (runStart !== -1) break;
    }
    const lastBad = known.length > 0 && bad(known.at(-1)!.value);
    const anyBad = known.some((d) => bad(d.value));
    if (bad(value) || lastBad) {
      status = 'breach';
      since = runStart >= 0 ? known[runStart]!.date : (known.at(-1)?.date ?? null);
      deadline = since ? addDays(since, cfg.cure_days) : null;
    } else if (anyBad) {
      // Cured only if no breach run outlasted its cure period.
      let run = 0;
      let longest = 0;
      for (const d of known) {
        run = bad(d.value) ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      status = longest <= cfg.cure_days ? 'cured' : 'breach';
    } else {
      const margin = cfg.at_risk_margin * Math.abs(cfg.threshold);
      const near = bound === 'min' ? value < cfg.threshold + margin : value > cfg.threshold - margin;
      status = near ? 'at_risk' : 'pass';
    }
  }
  return {
    value,
    threshold: cfg?.threshold ?? null,
    bound,
    status,
    trend,
    daily,
    breach_since: since,
    cure_deadline: deadline,
  };
}

function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

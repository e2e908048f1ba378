/**
 * Economics at this moment: revenue per day at the fleet's current measured hashrate and the latest market
 * inputs, cost per day at the current draw and the tariff in force now. Rigs not answering count for nothing
 * (their hashrate is unknown, not zero, and they are listed under `rigs_without_reading`).
 */
import {
  breakEvenPowerPrice,
  decimal,
  expectedSatsPerDay,
  hashprice,
  MICRO_PER_USD,
  poolFeeOf,
  Ratio,
  ROUNDING,
  rateAt,
  safeInt,
  satsToMicroUsd,
} from '../../economics/index.js';
import { latestMarket } from '../market/inputs.js';
import type { MarketStore } from '../market/store.js';
import type { FleetView } from '../views.js';
import type { EconomicsSettings } from './report.js';

const int = (r: Ratio | null) => (r === null ? null : safeInt(r.round()));

export interface LiveRig {
  rig_id: string;
  name: string | null;
  model: string | null;
  hashrate_ths: number | null;
  power_w: number | null;
  power_source: 'pdu' | 'miner' | 'estimate' | null;
  revenue_usd_per_day_micro: number | null;
  energy_cost_usd_per_day_micro: number | null;
  break_even_usd_per_kwh_micro: number | null;
}

export interface LiveEconomics {
  at_ms: number;
  timezone: string;
  rounding: string;
  complete: boolean;
  missing: string[];
  market: {
    difficulty: number | null;
    height: number | null;
    subsidy_sats: number | null;
    fees_sats_per_block: number | null;
    btc_price_usd: number | null;
    sources: Record<string, string>;
  };
  hashprice: {
    hashvalue_sats_per_th_day: number | null;
    hashprice_usd_per_ph_day_micro: number | null;
    net_hashprice_usd_per_ph_day_micro: number | null;
  };
  fleet: {
    rigs: number;
    rigs_with_reading: number;
    hashrate_ths: number;
    power_w: number;
    power_w_by_source: Record<'pdu' | 'miner' | 'estimate', number>;
    j_per_th: number | null;
    revenue_sats_per_day: number | null;
    revenue_usd_per_day_micro: number | null;
    net_revenue_usd_per_day_micro: number | null;
    energy_rate_usd_per_kwh_micro: number | null;
    cost_usd_per_day_micro: {
      energy: number | null;
      hosting: number;
      other_opex: number;
      depreciation: number;
      cash: number | null;
      all_in: number | null;
    };
    profit_usd_per_day_micro: number | null;
    break_even_usd_per_kwh_micro: number | null;
  };
  rigs: LiveRig[];
}

export function liveEconomics(
  fleet: FleetView,
  market: MarketStore,
  s: EconomicsSettings,
  nowMs: number,
  /** `rigs: false`: fleet totals only, `rigs` left empty (exact per-rig figures cost ~50 µs a rig). */
  opts: { rigs?: boolean } = {},
): LiveEconomics {
  const perRig = opts.rigs ?? true;
  const m = latestMarket(market, nowMs, s.fees_valid_ms);
  const fee = poolFeeOf(s.pool_fee);
  const keep = new Ratio(1n).sub(fee);
  const reward =
    m.subsidy_sats && m.fees_sats ? new Ratio(m.subsidy_sats.value).add(m.fees_sats.value) : null;
  const d = m.difficulty?.value ?? null;
  const p = m.price_micro_usd?.value ?? null;
  const rate = s.tariff ? rateAt(s.tariff, nowMs, s.timezone).micro_usd_per_kwh : null;
  // Monthly lines per day: / 30.4375 days (365.25 / 12).
  const perDay = (usdMonth: number) => decimal(usdMonth).mul(MICRO_PER_USD).mul(400n).div(12_175n);
  const hostingKwh = decimal(s.hosting_usd_per_kwh).mul(MICRO_PER_USD);

  // Hashrate (H/s) and power as exact sums per decimal denominator, combined once after the loop: adding
  // fractions of unlike denominators rig by rig was most of the cost at 10,000 rigs. Same exact values.
  const hashSum = new Map<bigint, bigint>();
  const wattSum = new Map<bigint, bigint>();
  const bySource = { pdu: 0, miner: 0, estimate: 0 };
  let depreciation = Ratio.ZERO;
  let withReading = 0;
  const rigs: LiveRig[] = [];
  const list = fleet.list();
  // Rigs per monthly depreciation figure: the sum is the same exact ratio, with one multiplication per figure.
  const byDepreciation = new Map<number, bigint>();
  for (const r of list) {
    const c = r.current;
    const model = c?.identity.model ?? null;
    const dep =
      (model ? s.depreciation_usd_per_model_month[model] : undefined) ?? s.depreciation_usd_per_rig_month;
    byDepreciation.set(dep, (byDepreciation.get(dep) ?? 0n) + 1n);
    const h = c?.hashrate_hs ?? null;
    const w = c?.power_w ?? null;
    if (c && h !== null) withReading += 1;
    const rh = h === null ? null : decimal(h);
    const rw = w === null ? null : decimal(w);
    if (rh) hashSum.set(rh.den, (hashSum.get(rh.den) ?? 0n) + rh.num);
    if (rw) {
      wattSum.set(rw.den, (wattSum.get(rw.den) ?? 0n) + rw.num);
      if (c?.power_source) bySource[c.power_source] += w!;
    }
    if (!perRig) continue;
    const rth = rh ? rh.div(1_000_000_000_000n) : null;
    const rev =
      rth && d && reward && p ? satsToMicroUsd(expectedSatsPerDay(rth, d, reward), p).mul(keep) : null;
    const kwhDay = rw ? rw.mul(24n).div(1000n) : null;
    rigs.push({
      rig_id: r.rig_id,
      name: r.name,
      model,
      hashrate_ths: rth ? Math.round(rth.toNumber() * 1000) / 1000 : null,
      power_w: w,
      power_source: c?.power_source ?? null,
      revenue_usd_per_day_micro: int(rev),
      energy_cost_usd_per_day_micro: kwhDay && rate ? int(kwhDay.mul(rate)) : null,
      break_even_usd_per_kwh_micro: rev && kwhDay ? int(breakEvenPowerPrice(rev, kwhDay)) : null,
    });
  }
  for (const [dep, n] of byDepreciation) depreciation = depreciation.add(perDay(dep).mul(n));
  const total = (sums: Map<bigint, bigint>) =>
    [...sums].reduce((t, [den, num]) => t.add(new Ratio(num, den)), Ratio.ZERO);
  const ths = total(hashSum).div(1_000_000_000_000n);
  const watts = total(wattSum);
  const sats = d && reward ? expectedSatsPerDay(ths, d, reward) : null;
  const usd = sats && p ? satsToMicroUsd(sats, p) : null;
  const net = usd ? usd.mul(keep) : null;
  const kwhDay = watts.mul(24n).div(1000n);
  const energy = rate ? kwhDay.mul(rate) : null;
  const hosting = kwhDay.mul(hostingKwh).add(perDay(s.hosting_usd_per_rig_month).mul(BigInt(list.length)));
  const opex = perDay(s.other_opex_usd_per_month);
  const poolFees = usd ? usd.mul(fee) : null;
  const cash = energy && poolFees ? energy.add(hosting).add(opex).add(poolFees) : null;
  const hp = d && reward && p ? hashprice(d, reward, p, fee) : null;
  const missing = [...m.missing];
  if (!s.tariff) missing.push('tariff');
  if (withReading < list.length)
    missing.push(`readings from ${list.length - withReading} of ${list.length} rigs`);
  const sources: Record<string, string> = {};
  if (m.difficulty) sources.difficulty = `${m.difficulty.source} (${m.difficulty.basis})`;
  if (m.height) sources.height = `${m.height.source} (${m.height.basis})`;
  if (m.fees_sats) sources.fees = `${m.fees_sats.source} (${m.fees_sats.basis})`;
  if (m.price_micro_usd) sources.btc_price = `${m.price_micro_usd.source} (${m.price_micro_usd.basis})`;
  return {
    at_ms: nowMs,
    timezone: s.timezone,
    rounding: ROUNDING,
    complete: missing.length === 0,
    missing,
    market: {
      difficulty: d ? d.toNumber() : null,
      height: m.height?.value ?? null,
      subsidy_sats: m.subsidy_sats ? safeInt(m.subsidy_sats.value) : null,
      fees_sats_per_block: m.fees_sats ? int(m.fees_sats.value) : null,
      btc_price_usd: p ? p.div(MICRO_PER_USD).toNumber() : null,
      sources,
    },
    hashprice: {
      hashvalue_sats_per_th_day: hp ? Math.round(hp.hashvalue_sats_per_th_day.toNumber() * 1e6) / 1e6 : null,
      hashprice_usd_per_ph_day_micro: hp ? int(hp.hashprice_micro_usd_per_ph_day) : null,
      net_hashprice_usd_per_ph_day_micro: hp ? int(hp.net_hashprice_micro_usd_per_ph_day) : null,
    },
    fleet: {
      rigs: list.length,
      rigs_with_reading: withReading,
      hashrate_ths: Math.round(ths.toNumber() * 1000) / 1000,
      power_w: Math.round(watts.toNumber() * 10) / 10,
      power_w_by_source: bySource,
      j_per_th: ths.sign() > 0 ? Math.round(watts.div(ths).toNumber() * 100) / 100 : null,
      revenue_sats_per_day: int(sats),
      revenue_usd_per_day_micro: int(usd),
      net_revenue_usd_per_day_micro: int(net),
      energy_rate_usd_per_kwh_micro: int(rate),
      cost_usd_per_day_micro: {
        energy: int(energy),
        hosting: safeInt(hosting.round()),
        other_opex: safeInt(opex.round()),
        depreciation: safeInt(depreciation.round()),
        cash: int(cash),
        all_in: cash ? int(cash.add(depreciation)) : null,
      },
      profit_usd_per_day_micro: cash && usd ? int(usd.sub(cash)) : null,
      break_even_usd_per_kwh_micro: net && kwhDay.sign() > 0 ? int(breakEvenPowerPrice(net, kwhDay)) : null,
    },
    rigs,
  };
}

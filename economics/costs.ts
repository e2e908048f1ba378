/**
 * Cost lines other than energy, cost per BTC and break-even figures.
 *
 * Monthly amounts (demand charge, hosting per rig, other opex, depreciation) are prorated by the share of each
 * local calendar month the period covers (a 2-day slice of a 30-day month carries 2/30 of it). Curtailment
 * credits are their own negative line.
 */
import { invalidInput } from './errors.js';
import { decimal, MICRO_PER_USD, Ratio, SATS_PER_BTC } from './exact.js';
import { monthsBetween } from './timezone.js';

/** Share of each local month covered by [fromMs, toMs): Σ months overlap/length. */
export function monthShares(fromMs: number, toMs: number, tz: string): { month: string; share: Ratio }[] {
  return monthsBetween(fromMs, toMs, tz).map((m) => {
    const overlap = Math.min(toMs, m.end_ms) - Math.max(fromMs, m.start_ms);
    return { month: m.month, share: new Ratio(BigInt(Math.max(0, overlap)), BigInt(m.end_ms - m.start_ms)) };
  });
}

/** A monthly dollar amount prorated over [fromMs, toMs), micro-dollars. */
export function proratedMonthly(usdPerMonth: number, fromMs: number, toMs: number, tz: string): Ratio {
  const perMonth = decimal(usdPerMonth).mul(MICRO_PER_USD);
  let total = Ratio.ZERO;
  for (const m of monthShares(fromMs, toMs, tz)) total = total.add(perMonth.mul(m.share));
  return total;
}

/**
 * Demand charge: per local month, the peak of the hourly average draw (kW) seen in the period × the rate ×
 * the month's covered share. `hourlyKw` maps hour start → fleet average kW in that hour.
 */
export function demandCharge(
  hourlyKw: ReadonlyMap<number, Ratio>,
  usdPerKwMonth: number,
  fromMs: number,
  toMs: number,
  tz: string,
): { micro_usd: Ratio; peaks: { month: string; peak_kw: number }[] } {
  const rate = decimal(usdPerKwMonth).mul(MICRO_PER_USD);
  let total = Ratio.ZERO;
  const peaks: { month: string; peak_kw: number }[] = [];
  for (const m of monthsBetween(fromMs, toMs, tz)) {
    let peak = Ratio.ZERO;
    for (const [hour, kw] of hourlyKw) {
      if (hour >= Math.max(fromMs, m.start_ms) && hour < Math.min(toMs, m.end_ms) && kw.cmp(peak) > 0)
        peak = kw;
    }
    const overlap = Math.min(toMs, m.end_ms) - Math.max(fromMs, m.start_ms);
    const share = new Ratio(BigInt(Math.max(0, overlap)), BigInt(m.end_ms - m.start_ms));
    total = total.add(peak.mul(rate).mul(share));
    peaks.push({ month: m.month, peak_kw: peak.toNumber() });
  }
  return { micro_usd: total, peaks };
}

/** Cost lines of a period, micro-dollars (exact). Credits are negative or zero. */
export interface CostLines {
  energy: Ratio;
  demand: Ratio;
  curtailment_credits: Ratio;
  hosting: Ratio;
  pool_fees: Ratio;
  other_opex: Ratio;
  depreciation: Ratio;
}

export function emptyCostLines(): CostLines {
  return {
    energy: Ratio.ZERO,
    demand: Ratio.ZERO,
    curtailment_credits: Ratio.ZERO,
    hosting: Ratio.ZERO,
    pool_fees: Ratio.ZERO,
    other_opex: Ratio.ZERO,
    depreciation: Ratio.ZERO,
  };
}

export function addCostLines(a: CostLines, b: CostLines): CostLines {
  const out = emptyCostLines();
  for (const k of Object.keys(out) as (keyof CostLines)[]) out[k] = a[k].add(b[k]);
  return out;
}

/** Energy-only cost: energy + demand − credits. */
export function energyOnlyCost(c: CostLines): Ratio {
  return c.energy.add(c.demand).add(c.curtailment_credits);
}

/** Cash cost: energy-only + hosting + pool fees + other opex. */
export function cashCost(c: CostLines): Ratio {
  return energyOnlyCost(c).add(c.hosting).add(c.pool_fees).add(c.other_opex);
}

/** All-in cost: cash cost + depreciation. */
export function allInCost(c: CostLines): Ratio {
  return cashCost(c).add(c.depreciation);
}

export interface CostPerBtc {
  energy_only: Ratio | null;
  cash: Ratio;
  all_in: Ratio;
}

/**
 * Cost per BTC three ways, micro-dollars per BTC: cost / (sats / 1e8). The BTC is the gross expected output
 * (the pool fee is a cost line). Null when no BTC was produced.
 */
export function costPerBtc(
  c: CostLines,
  sats: Ratio,
): { energy_only: Ratio; cash: Ratio; all_in: Ratio } | null {
  if (sats.sign() <= 0) return null;
  const btc = sats.div(SATS_PER_BTC);
  return {
    energy_only: energyOnlyCost(c).div(btc),
    cash: cashCost(c).div(btc),
    all_in: allInCost(c).div(btc),
  };
}

/** Break-even electricity price, micro-dollars per kWh: net revenue (after pool fee) / kWh. */
export function breakEvenPowerPrice(netRevenueMicro: Ratio, kwh: Ratio): Ratio | null {
  return kwh.sign() > 0 ? netRevenueMicro.div(kwh) : null;
}

/**
 * Break-even hashprice, micro-dollars per TH/s per day: the gross hashprice at which revenue after the pool fee
 * covers cash cost without the pool fee line. thDays = Σ TH/s · days of measured hashrate.
 */
export function breakEvenHashprice(c: CostLines, thDays: Ratio, poolFee: Ratio): Ratio | null {
  if (thDays.sign() <= 0) return null;
  const keep = new Ratio(1n).sub(poolFee);
  if (keep.sign() <= 0) throw invalidInput('pool_fee', 'must be below 1');
  return cashCost(c).sub(c.pool_fees).div(thDays).div(keep);
}

/** Fleet efficiency J/TH = Σ W / Σ TH/s; over time, Σ Wh · 3600 / Σ TH·s. */
export function joulesPerTh(wh: Ratio, thSeconds: Ratio): Ratio | null {
  return thSeconds.sign() > 0 ? wh.mul(3600n).div(thSeconds) : null;
}

/** Hashcost, micro-dollars per PH/s per day: 24 · J/TH · $/kWh (power only). */
export function hashcostPerPhDay(jPerTh: Ratio, microUsdPerKwh: Ratio): Ratio {
  return jPerTh.mul(24n).mul(microUsdPerKwh);
}

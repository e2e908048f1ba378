/**
 * The cost basis of a loan's cash flow (CFADS): the economics section's cost lines (economics/costs.ts,
 * economics/tariff.ts), the same ones `GET /v1/economics` uses, applied to the pledged rigs. The `loans.*` cost
 * settings are overrides for loan reports only; each line cites where it came from.
 *
 * Lines over [from, to) for the pledged rigs (docs/loans.md):
 * - energy = Σ per hour of the pledged rigs' kWh × the tariff's rate in force that local hour (time of use);
 * - demand = per local month, the pledged rigs' peak hourly kW × `demand_usd_per_kw_month` × the month's share;
 * - hosting = kWh × `hosting_usd_per_kwh` + pledged rigs × `hosting_usd_per_rig_month` prorated;
 * - pool fee = revenue × `pool_fee`;
 * - other opex and curtailment credits are site lines: the loan carries the pledged rigs' share of the site's
 *   energy in the slice (all of it when the site's energy is not known).
 */
import type { Config } from '../config/schema.js';
import { demandCharge, proratedMonthly } from '../economics/costs.js';
import { decimal, MICRO_PER_USD, Ratio } from '../economics/exact.js';
import { energyCost, type TariffSpec } from '../economics/tariff.js';
import { daysBetween } from '../economics/timezone.js';

export interface LoanCostBasis {
  /** Null: no tariff configured, so energy is not priced and CFADS is unknown (never taken as free power). */
  tariff: TariffSpec | null;
  pool_fee: number;
  hosting_usd_per_kwh: number;
  hosting_usd_per_rig_month: number;
  other_opex_usd_per_month: number;
  curtailment_credits: readonly { date: string; usd: number }[];
  /** Where each input comes from: the economics setting or the loan-level override. */
  sources: Record<
    'tariff' | 'pool_fee' | 'hosting_usd_per_kwh' | 'other_opex_usd_per_month',
    'economics' | 'loans override'
  >;
}

/** The loan cost basis from the config: economics lines, with any `loans.*` override in their place. */
export function loanCostBasis(cfg: Pick<Config, 'economics' | 'loans'>): LoanCostBasis {
  const e = cfg.economics;
  const l = cfg.loans;
  const tariff: TariffSpec | null =
    l.tariff_usd_per_kwh !== undefined
      ? {
          usd_per_kwh: l.tariff_usd_per_kwh,
          ...(e.tariff?.demand_usd_per_kw_month !== undefined
            ? { demand_usd_per_kw_month: e.tariff.demand_usd_per_kw_month }
            : {}),
        }
      : e.tariff;
  const src = (v: unknown): 'economics' | 'loans override' =>
    v === undefined ? 'economics' : 'loans override';
  return {
    tariff,
    pool_fee: l.pool_fee ?? e.pool_fee,
    hosting_usd_per_kwh: l.hosting_usd_per_kwh ?? e.hosting_usd_per_kwh,
    hosting_usd_per_rig_month: e.hosting_usd_per_rig_month,
    other_opex_usd_per_month: l.other_opex_usd_per_month ?? e.other_opex_usd_per_month,
    curtailment_credits: e.curtailment_credits,
    sources: {
      tariff: src(l.tariff_usd_per_kwh),
      pool_fee: src(l.pool_fee),
      hosting_usd_per_kwh: src(l.hosting_usd_per_kwh),
      other_opex_usd_per_month: src(l.other_opex_usd_per_month),
    },
  };
}

export interface LoanCashLines {
  /** Null when no tariff is configured. */
  energy: number | null;
  demand: number | null;
  curtailment_credits: number;
  hosting: number;
  pool: number;
  other: number;
  /** revenue − every line above; null when energy is unknown. */
  cfads: number | null;
}

export interface SliceInput {
  revenue_usd: number;
  /** Pledged rigs' energy per hour start (Wh), hours inside [from, to). */
  pledgedWh: ReadonlyMap<number, number>;
  /** The whole site's energy per hour start (Wh); absent: the loan carries the whole site lines. */
  siteWh?: ReadonlyMap<number, number> | undefined;
  rigs: number;
  fromMs: number;
  toMs: number;
  tz: string;
}

const usd = (micro: Ratio) => micro.toNumber() / 1e6;

/** Cash cost lines of the pledged rigs over [from, to), in USD. */
export function loanCashLines(basis: LoanCostBasis, s: SliceInput): LoanCashLines {
  const hours = [...s.pledgedWh]
    .filter(([h]) => h >= s.fromMs && h < s.toMs)
    .map(([hour_ms, wh]) => ({ hour_ms, wh: decimal(wh) }));
  let kwh = Ratio.ZERO;
  for (const h of hours) kwh = kwh.add(h.wh.div(1000n));
  let energy: number | null = null;
  let demand: number | null = null;
  if (basis.tariff) {
    energy = usd(energyCost(hours, basis.tariff, s.tz).micro_usd);
    const rate = basis.tariff.demand_usd_per_kw_month ?? 0;
    if (rate > 0) {
      // An hour's Wh is its average kW × 1000.
      const kw = new Map(hours.map((h) => [h.hour_ms, h.wh.div(1000n)]));
      demand = usd(demandCharge(kw, rate, s.fromMs, s.toMs, s.tz).micro_usd);
    } else demand = 0;
  }
  const hosting =
    usd(kwh.mul(decimal(basis.hosting_usd_per_kwh).mul(MICRO_PER_USD))) +
    (basis.hosting_usd_per_rig_month > 0
      ? usd(proratedMonthly(basis.hosting_usd_per_rig_month, s.fromMs, s.toMs, s.tz)) * s.rigs
      : 0);
  const pool = s.revenue_usd * basis.pool_fee;
  const share = siteShare(s);
  const other =
    basis.other_opex_usd_per_month > 0
      ? usd(proratedMonthly(basis.other_opex_usd_per_month, s.fromMs, s.toMs, s.tz)) * share
      : 0;
  let credits = 0;
  if (basis.curtailment_credits.length) {
    const dates = new Set(daysBetween(s.fromMs, s.toMs, s.tz).map((d) => d.date));
    for (const c of basis.curtailment_credits) if (dates.has(c.date)) credits -= c.usd * share;
  }
  const cfads =
    energy === null || demand === null
      ? null
      : s.revenue_usd - energy - demand - credits - hosting - pool - other;
  return { energy, demand, curtailment_credits: credits, hosting, pool, other, cfads };
}

/** The pledged rigs' share of the site's energy in the slice (1 when the site's energy is not known). */
function siteShare(s: SliceInput): number {
  if (!s.siteWh) return 1;
  let site = 0;
  let pledged = 0;
  for (const [h, wh] of s.siteWh) if (h >= s.fromMs && h < s.toMs) site += wh;
  for (const [h, wh] of s.pledgedWh) if (h >= s.fromMs && h < s.toMs) pledged += wh;
  return site > 0 ? Math.min(1, pledged / site) : 1;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marketSeries } from '../collector/market/inputs.js';
import { MarketStore, type MarketValue } from '../collector/market/store.js';
import type { RollupRow } from '../collector/sinks/embedded.js';
import { economicsSection } from '../config/sections/economics.js';
import { facilitySchema, loansSection } from '../config/sections/loans.js';
import { loanCostBasis } from './costs.js';
import { computeCovenants, judge } from './covenants.js';
import type { PledgeState } from './pledges.js';
import { normalizePledge } from './register.js';

const H = 3_600_000;
const FROM = Date.parse('2026-11-02T00:00:00Z');
const TO = Date.parse('2026-11-03T00:00:00Z');

function row(rig: string, hour: number, ths: number): RollupRow {
  return {
    rig_id: rig,
    hour_ms: FROM + hour * H,
    polls: 120,
    polls_ok: 120,
    polls_expected: 120,
    hashrate_hs: ths * 1e12,
    power_w: 3000,
    power_source: 'miner',
    energy_wh: 3000,
    temp_chip_max_c: 70,
    mining_s: 3600,
    curtailed_s: 0,
    offline_s: 0,
    covered_s: 3600,
  };
}

const facility = (() => {
  const f = facilitySchema.parse({
    id: 'L1',
    lender: 'Test Lender',
    principal_usd: 1000,
    rate_apr: 0.073,
    start: '2026-11-01',
    schedule: [{ due: '2026-12-01', principal_usd: 60, interest_usd: 30 }],
    pledges: [
      { mac: 'aa:00:00:00:00:01', model: 'M', nominal_ths: 100, nominal_w: 3000 },
      { mac: 'aa:00:00:00:00:02', model: 'M', nominal_ths: 100, nominal_w: 3000 },
    ],
    collateral: {
      tiers: [
        { label: '<25 J/TH', max_j_per_th: 25, usd_per_th: 20 },
        { label: '25-38 J/TH', max_j_per_th: 38, usd_per_th: 10 },
        { label: '>38 J/TH', max_j_per_th: null, usd_per_th: 3 },
      ],
      marked_on: '2026-11-01',
      source: 'test table',
      haircut: 0.5,
    },
    covenants: {
      min_dscr: { threshold: 1.25 },
      max_ltv: { threshold: 2 },
      min_performance_ratio: { threshold: 0.8 },
      min_uptime: { threshold: 0.9 },
      min_units_online: { threshold: 0.75 },
    },
  });
  return { ...f, pledges: f.pledges.map(normalizePledge) };
})();

const loans = loansSection.parse({
  market: [
    {
      at: '2026-11-01T00:00:00Z',
      btc_usd: 100_000,
      difficulty: 100e12,
      fees_btc_per_block: 0.3125,
      subsidy_btc: 3.125,
      source: 'recorded test series',
    },
  ],
});

// The loan's cash flow takes the economics section's cost lines: a flat $0.05/kWh and a 2 % pool fee.
const economics = economicsSection.parse({ tariff: { usd_per_kwh: 0.05 }, pool_fee: 0.02 });
const costs = loanCostBasis({ economics, loans });

describe('covenant engine (hand-checked)', () => {
  it('computes DSCR, LTV, performance ratio, uptime and units online from hourly rollups', () => {
    // Rig 1 hashes 90 TH/s all 24 h; rig 2 hashes 100 TH/s for 12 h, then vanishes (no rollups) while the
    // collector keeps polling the site (every hour covered), so its last 12 h count as zero hashing.
    const r1 = Array.from({ length: 24 }, (_, h) => row('aa:00:00:00:00:01', h, 90));
    const r2 = Array.from({ length: 12 }, (_, h) => row('aa:00:00:00:00:02', h, 100));
    const siteCovered = new Map(Array.from({ length: 24 }, (_, h) => [FROM + h * H, 3600] as const));
    const state = (key: string, status: PledgeState['status']): PledgeState => ({
      key,
      status,
      since_ms: FROM,
      detail: null,
      rig_id: null,
      address: null,
      last_seen_ms: null,
      answered_by: null,
    });
    const out = computeCovenants({
      facility,
      fromMs: FROM,
      toMs: TO,
      tz: 'UTC',
      costs,
      market: loans.market,
      intervalMs: 30_000,
      rigs: [
        { pledge: facility.pledges[0]!, rig_id: 'aa:00:00:00:00:01', rollups: r1 },
        { pledge: facility.pledges[1]!, rig_id: 'aa:00:00:00:00:02', rollups: r2 },
      ],
      siteCovered,
      pledged: [state('mac:aa:00:00:00:00:01', 'seen'), state('mac:aa:00:00:00:00:02', 'missing')],
      unpledged: [],
    });
    // Work: 90 TH/s × 86 400 s + 100 TH/s × 43 200 s = 7 776 000 + 4 320 000 = 12 096 000 TH·s.
    // Measured: rig 1 = 7 776 000 / 86 400 = 90 TH/s; rig 2 = 4 320 000 / 86 400 = 50 TH/s.
    // Performance ratio = (90 + 50) / (100 + 100) = 0.70.
    assert.equal(out.rigs[0]!.measured_ths, 90);
    assert.equal(out.rigs[1]!.measured_ths, 50);
    assert.equal(out.covenants.performance_ratio.value, 0.7);
    assert.equal(out.covenants.performance_ratio.status, 'breach');
    // Uptime = mining s / covered s = (86 400 + 43 200) / (86 400 + 86 400) = 0.75 (< 0.9: breach).
    assert.equal(out.covenants.uptime.value, 0.75);
    assert.equal(out.covenants.uptime.status, 'breach');
    // Revenue = 12 096 000 TH·s × 1e12 × (3.125 + 0.3125) BTC / (100e12 × 2^32) × $100 000 = $9.681098…
    // Energy = (24 + 12) h × 3 kWh = 108 kWh × $0.05 = $5.40; pool fee 2 % of revenue = $0.193622.
    // CFADS = 9.681098 − 0.193622 − 5.40 = $4.087476. Debt service: $90 due 2026-12-01 covers 30 days,
    // so one day accrues $3.00. DSCR = 4.087476 / 3 = 1.362492: above 1.25 but within 10 % (1.375): at_risk.
    assert.ok(Math.abs(out.totals.revenue_usd - 9.6810981631) < 1e-8, String(out.totals.revenue_usd));
    assert.ok(Math.abs(out.totals.energy_kwh - 108) < 1e-9);
    assert.ok(Math.abs(out.totals.debt_service_usd - 3) < 1e-9);
    assert.ok(Math.abs(out.covenants.dscr.value! - 1.3624920666) < 1e-8, String(out.covenants.dscr.value));
    assert.equal(out.covenants.dscr.status, 'at_risk');
    // Per-rig revenue adds up to the fleet's (reconciliation).
    assert.ok(Math.abs(out.totals.revenue_rigs_sum_usd - out.totals.revenue_usd) < 1e-9);
    // LTV: balance = 1000 × (1 + 0.073 × 2/365) = $1000.40 (nothing due yet, 2 days of interest).
    // J/TH measured: rig 1 = 72 000 Wh × 3600 / 7 776 000 = 33.3; rig 2 = 36 000 × 3600 / 4 320 000 = 30.0:
    // both in the 25–38 tier at $10/TH. Collateral = (90 + 50) × 10 × (1 − 0.5) = $700; LTV = 1000.4 / 700 = 1.429.
    // On nameplate: 200 × 10 × 0.5 = $1000.
    assert.ok(Math.abs(out.totals.balance_usd - 1000.4) < 1e-9);
    assert.ok(Math.abs(out.totals.collateral_measured_usd - 700) < 1e-9);
    assert.ok(Math.abs(out.totals.collateral_nameplate_usd - 1000) < 1e-9);
    assert.ok(Math.abs(out.covenants.ltv.value! - 1000.4 / 700) < 1e-12);
    assert.equal(out.covenants.ltv.status, 'pass');
    // Units online: 1 of 2 pledged rigs answers as pledged = 0.5 (< 0.75).
    assert.equal(out.covenants.units_online.value, 0.5);
    assert.equal(out.covenants.units_online.status, 'breach');
    // Stress: −30 % hashprice: 0.7 × 9.681098 × 0.98 − 5.40 = 1.241233 → /3 = 0.413744.
    // After the halving: (1.5625 + 0.3125) / 3.4375 = 6/11 of revenue → (5.280599 × 0.98 − 5.40) / 3 = −0.075004.
    assert.ok(Math.abs(out.stress.dscr_hashprice_minus_30! - 0.4137444466) < 1e-8);
    assert.ok(Math.abs(out.stress.dscr_hashprice_minus_50! - -0.2187539667) < 1e-8);
    assert.ok(Math.abs(out.stress.dscr_after_halving! - -0.0750043273) < 1e-8);
    // Coverage: no site gaps; 2880 polls expected per rig.
    assert.deepEqual(out.coverage.site_gap_hours, []);
    assert.equal(out.coverage.polls_expected, 2 * 2880);
    assert.equal(out.rigs[1]!.gap_hours, 12);
    assert.deepEqual(out.rigs[1]!.gaps, [{ from_ms: FROM + 12 * H, to_ms: TO }]);
  });

  it('reads the economics market store when the loan config has no market series', () => {
    const store = MarketStore.open(':memory:');
    const at = (iso: string) => Date.parse(iso);
    const v = (kind: MarketValue['kind'], iso: string, value: string) => ({
      kind,
      at_ms: at(iso),
      value,
      source: 'test',
      basis: 'recorded',
      recorded_ms: at(iso),
    });
    store.record([
      v('difficulty', '2026-11-01T00:00:00Z', '100000000000000'),
      v('height', '2026-11-01T00:00:00Z', '900000'),
      v('fees_btc_per_block', '2026-11-02T00:00:00Z', '0.3125'),
      v('price_usd', '2026-11-02T12:00:00Z', '100000'),
    ]);
    const r1 = Array.from({ length: 24 }, (_, h) => row('aa:00:00:00:00:01', h, 90));
    const r2 = Array.from({ length: 12 }, (_, h) => row('aa:00:00:00:00:02', h, 100));
    const out = computeCovenants({
      facility,
      fromMs: FROM,
      toMs: TO,
      tz: 'UTC',
      costs,
      market: [],
      recorded: {
        series: marketSeries(store, FROM, TO, 'UTC', 2 * 86_400_000),
        subsidy_sats_at_end: 312_500_000,
      },
      intervalMs: 30_000,
      rigs: [
        { pledge: facility.pledges[0]!, rig_id: 'aa:00:00:00:00:01', rollups: r1 },
        { pledge: facility.pledges[1]!, rig_id: 'aa:00:00:00:00:02', rollups: r2 },
      ],
      siteCovered: new Map(Array.from({ length: 24 }, (_, h) => [FROM + h * H, 3600] as const)),
      pledged: [],
      unpledged: [],
    });
    store.close();
    // Same inputs as the hand-checked case above (the day's last price holds for the day): same revenue, same stress.
    assert.ok(Math.abs(out.totals.revenue_usd - 9.6810981631) < 1e-8, String(out.totals.revenue_usd));
    assert.ok(Math.abs(out.stress.dscr_after_halving! - -0.0750043273) < 1e-8);
    assert.ok(out.market_used.some((m) => m.kind === 'btc_usd' && m.value === 100_000));
    assert.ok(out.market_used.some((m) => m.kind === 'reward_btc_per_block' && m.value === 3.4375));
  });

  it('an hour nobody polled is a gap, left out of the denominators and listed', () => {
    const r1 = Array.from({ length: 23 }, (_, h) => row('aa:00:00:00:00:01', h, 90));
    const siteCovered = new Map(Array.from({ length: 23 }, (_, h) => [FROM + h * H, 3600] as const));
    const out = computeCovenants({
      facility: { ...facility, pledges: [facility.pledges[0]!] },
      fromMs: FROM,
      toMs: TO,
      tz: 'UTC',
      costs,
      market: loans.market,
      intervalMs: 30_000,
      rigs: [{ pledge: facility.pledges[0]!, rig_id: 'aa:00:00:00:00:01', rollups: r1 }],
      siteCovered,
      pledged: [],
      unpledged: [],
    });
    assert.equal(out.rigs[0]!.measured_ths, 90);
    assert.equal(out.covenants.uptime.value, 1);
    assert.deepEqual(out.coverage.site_gap_hours, [{ from_ms: FROM + 23 * H, to_ms: TO }]);
  });

  it('declared maintenance is kept out of uptime; a failure is not', () => {
    // Rig 2 is down for the last 12 h. Declared as maintenance, its uptime is 43 200 / (86 400 − 43 200) = 1;
    // undeclared (first test) it is 0.5.
    const r2 = Array.from({ length: 12 }, (_, h) => row('aa:00:00:00:00:02', h, 100));
    const siteCovered = new Map(Array.from({ length: 24 }, (_, h) => [FROM + h * H, 3600] as const));
    const withWindow = {
      ...facility,
      pledges: [facility.pledges[1]!],
      maintenance: [{ from: '2026-11-02T12:00:00Z', to: '2026-11-03T00:00:00Z', reason: 'board swap' }],
    };
    const out = computeCovenants({
      facility: withWindow,
      fromMs: FROM,
      toMs: TO,
      tz: 'UTC',
      costs,
      market: loans.market,
      intervalMs: 30_000,
      rigs: [{ pledge: facility.pledges[1]!, rig_id: 'aa:00:00:00:00:02', rollups: r2 }],
      siteCovered,
      pledged: [],
      unpledged: [],
    });
    assert.equal(out.covenants.uptime.value, 1);
    // Performance still counts the hours it did not hash: 4 320 000 / 86 400 / 100 = 0.5.
    assert.equal(out.covenants.performance_ratio.value, 0.5);
  });

  it('prices energy at the economics time-of-use tariff, hour by hour, and DSCR moves with it', () => {
    // Same rigs as the first case; 2026-11-02 is a Monday. On-peak Mon 12:00–24:00 at $0.10/kWh, base $0.05.
    const r1 = Array.from({ length: 24 }, (_, h) => row('aa:00:00:00:00:01', h, 90));
    const r2 = Array.from({ length: 12 }, (_, h) => row('aa:00:00:00:00:02', h, 100));
    const run = (c: typeof costs) =>
      computeCovenants({
        facility,
        fromMs: FROM,
        toMs: TO,
        tz: 'UTC',
        costs: c,
        market: loans.market,
        intervalMs: 30_000,
        rigs: [
          { pledge: facility.pledges[0]!, rig_id: 'aa:00:00:00:00:01', rollups: r1 },
          { pledge: facility.pledges[1]!, rig_id: 'aa:00:00:00:00:02', rollups: r2 },
        ],
        siteCovered: new Map(Array.from({ length: 24 }, (_, h) => [FROM + h * H, 3600] as const)),
        pledged: [],
        unpledged: [],
      });
    const tou = economicsSection.parse({
      pool_fee: 0.02,
      tariff: {
        usd_per_kwh: 0.05,
        windows: [{ name: 'on-peak', days: ['mon'], from_hour: 12, to_hour: 24, usd_per_kwh: 0.1 }],
      },
    });
    const out = run(loanCostBasis({ economics: tou, loans }));
    // Off-peak 00–12: both rigs, 24 rig-hours × 3 kWh = 72 kWh × $0.05 = $3.60. On-peak 12–24: only rig 1,
    // 12 × 3 kWh = 36 kWh × $0.10 = $3.60. Energy = $7.20 (flat $0.05 over the same 108 kWh: $5.40).
    // CFADS = 9.681098 − 0.193622 − 7.20 = $2.287476; DSCR = 2.287476 / 3 = 0.762492 (< 1.25: breach).
    assert.ok(Math.abs(out.totals.energy_usd! - 7.2) < 1e-9, String(out.totals.energy_usd));
    assert.ok(Math.abs(out.covenants.dscr.value! - 0.7624920666) < 1e-8, String(out.covenants.dscr.value));
    assert.equal(out.covenants.dscr.status, 'breach');
    // −30 % hashprice: 0.7 × 9.681098 × 0.98 − 7.20 = −0.558767 → /3 = −0.186256.
    assert.ok(Math.abs(out.stress.dscr_hashprice_minus_30! - -0.1862555534) < 1e-8);
    // The daily series carries the same money: one day, CFADS $2.287476.
    assert.ok(Math.abs(out.daily[0]!.cfads_usd! - 2.2874761998) < 1e-8, String(out.daily[0]!.cfads_usd));

    // A loan-level flat price is an override: it replaces the time-of-use windows, and the report cites it.
    const overridden = loanCostBasis({ economics: tou, loans: { ...loans, tariff_usd_per_kwh: 0.05 } });
    assert.equal(overridden.sources.tariff, 'loans override');
    assert.equal(overridden.sources.pool_fee, 'economics');
    assert.ok(Math.abs(run(overridden).covenants.dscr.value! - 1.3624920666) < 1e-8);

    // No tariff anywhere: energy is not priced, so CFADS and DSCR are unknown (null), never free power.
    const none = run(loanCostBasis({ economics: economicsSection.parse({ pool_fee: 0.02 }), loans }));
    assert.equal(none.totals.energy_usd, null);
    assert.equal(none.totals.cfads_usd, null);
    assert.equal(none.covenants.dscr.value, null);
    assert.equal(none.stress.dscr_hashprice_minus_30, null);
  });

  it('carries demand charge, and its share of site opex and curtailment credits, from the economics lines', () => {
    const r1 = Array.from({ length: 24 }, (_, h) => row('aa:00:00:00:00:01', h, 90));
    const r2 = Array.from({ length: 12 }, (_, h) => row('aa:00:00:00:00:02', h, 100));
    const e = economicsSection.parse({
      pool_fee: 0.02,
      tariff: { usd_per_kwh: 0.05, demand_usd_per_kw_month: 9 },
      other_opex_usd_per_month: 3000,
      curtailment_credits: [
        { date: '2026-11-02', usd: 10 },
        { date: '2026-11-05', usd: 1000 },
      ],
    });
    // The site drew another 108 kWh on unpledged rigs (4.5 kWh every hour): the loan's share is 108 / 216 = 0.5.
    const siteWh = new Map(
      Array.from({ length: 24 }, (_, h) => [FROM + h * H, (h < 12 ? 6000 : 3000) + 4500]),
    );
    const out = computeCovenants({
      facility,
      fromMs: FROM,
      toMs: TO,
      tz: 'UTC',
      costs: loanCostBasis({ economics: e, loans }),
      siteWh,
      market: loans.market,
      intervalMs: 30_000,
      rigs: [
        { pledge: facility.pledges[0]!, rig_id: 'aa:00:00:00:00:01', rollups: r1 },
        { pledge: facility.pledges[1]!, rig_id: 'aa:00:00:00:00:02', rollups: r2 },
      ],
      siteCovered: new Map(Array.from({ length: 24 }, (_, h) => [FROM + h * H, 3600] as const)),
      pledged: [],
      unpledged: [],
    });
    // Demand: the pledged rigs' peak hour draws 6 kWh (both rigs) = 6 kW × $9 × 1/30 of November = $1.80.
    // Other opex: $3000 × 1/30 = $100 × 0.5 = $50. Credits: only 2026-11-02 is in the period: −$10 × 0.5 = −$5.
    // CFADS = 9.681098 − 0.193622 − 5.40 − 1.80 − 50 + 5 = −$42.712524; DSCR = −42.712524 / 3 = −14.237508.
    assert.ok(Math.abs(out.totals.demand_usd! - 1.8) < 1e-9, String(out.totals.demand_usd));
    assert.ok(Math.abs(out.totals.other_opex_usd - 50) < 1e-9, String(out.totals.other_opex_usd));
    assert.ok(Math.abs(out.totals.curtailment_credits_usd - -5) < 1e-9);
    assert.ok(Math.abs(out.totals.cfads_usd! - -42.7125238002) < 1e-8, String(out.totals.cfads_usd));
    assert.ok(Math.abs(out.covenants.dscr.value! - -14.2375079334) < 1e-8);
  });

  it('judges pass, at_risk, breach and cured with trend and cure deadline', () => {
    const cfg = { threshold: 0.8, cure_days: 2, at_risk_margin: 0.1 };
    const d = (...v: number[]) => v.map((value, i) => ({ date: `2026-11-0${i + 1}`, value }));
    assert.equal(judge(0.95, cfg, 'min', d(0.9, 0.95), 'UTC').status, 'pass');
    assert.equal(judge(0.95, cfg, 'min', d(0.9, 0.95), 'UTC').trend, 'improving');
    assert.equal(judge(0.85, cfg, 'min', d(0.85), 'UTC').status, 'at_risk');
    const breach = judge(0.7, cfg, 'min', d(0.9, 0.7, 0.6), 'UTC');
    assert.equal(breach.status, 'breach');
    assert.equal(breach.breach_since, '2026-11-02');
    assert.equal(breach.cure_deadline, '2026-11-04');
    assert.equal(breach.trend, 'worsening');
    assert.equal(judge(0.9, cfg, 'min', d(0.7, 0.95, 0.95), 'UTC').status, 'cured');
    // A breach that outlasted its cure period stands even after the figure recovers.
    assert.equal(judge(0.9, cfg, 'min', d(0.7, 0.7, 0.7, 0.95), 'UTC').status, 'breach');
    assert.equal(judge(1.6, { ...cfg, threshold: 1.5 }, 'max', d(1.6), 'UTC').status, 'breach');
  });
});

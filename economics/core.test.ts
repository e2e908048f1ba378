import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  breakEvenHashprice,
  breakEvenPowerPrice,
  btcToSats,
  costPerBtc,
  cutSegments,
  daysBetween,
  decimal,
  demandCharge,
  EconomicsErrors,
  emptyCostLines,
  energyCost,
  expectedSats,
  expectedSatsPerDay,
  feesFromShare,
  HASHES_PER_TH,
  hashprice,
  isTimezone,
  joulesPerTh,
  localParts,
  type MarketKey,
  microToUsdString,
  poolFeeOf,
  proratedMonthly,
  Ratio,
  rateAt,
  revenueBySegment,
  roundHalfEven,
  type Step,
  satsToBtcString,
  subsidySats,
  subsidySteps,
  usdToMicro,
} from './index.js';

const H = 3_600_000;

describe('exact arithmetic', () => {
  it('rounds half to even at the edge', () => {
    // 5/2 = 2.5 → 2 (even), 7/2 = 3.5 → 4, -5/2 → -2, 10/4 = 2.5 → 2, 11/4 = 2.75 → 3
    assert.equal(roundHalfEven(5n, 2n), 2n);
    assert.equal(roundHalfEven(7n, 2n), 4n);
    assert.equal(roundHalfEven(-5n, 2n), -2n);
    assert.equal(roundHalfEven(10n, 4n), 2n);
    assert.equal(roundHalfEven(11n, 4n), 3n);
  });
  it('reads decimals exactly, never through a binary double', () => {
    // 0.1 + 0.2 is exactly 0.3 as fractions (3/10), unlike doubles.
    assert.equal(decimal(0.1).add(decimal(0.2)).cmp(decimal('0.3')), 0);
    assert.equal(decimal('83148355189239.77').mul(100n).round(), 8314835518923977n);
    assert.equal(decimal('1.5e-3').cmp(new Ratio(3n, 2000n)), 0);
    assert.throws(
      () => decimal('abc', 'difficulty'),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
    // A number reads as its shortest decimal string does (the number path skips the string parser).
    for (const n of [0, -0, 7, -3.25, 1e21, 1.5e-7, -2.5e-10, 2 ** 53 + 2, 95.3e12 * 1.00001, 5e300]) {
      assert.equal(decimal(n).cmp(decimal(String(n))), 0, String(n));
    }
    assert.equal(decimal(1e21).cmp(new Ratio(10n ** 21n)), 0);
    assert.equal(decimal(-2.5e-10).cmp(new Ratio(-1n, 4_000_000_000n)), 0);
    assert.throws(
      () => decimal(Number.NaN),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
    assert.equal(microToUsdString(64_373_016n), '64.373016');
    assert.equal(satsToBtcString(312_500_000n), '3.12500000');
  });
});

describe('subsidy by the halving schedule', () => {
  it('halves every 210,000 blocks and the halving block pays the new amount', () => {
    assert.equal(subsidySats(0), 5_000_000_000n);
    assert.equal(subsidySats(209_999), 5_000_000_000n);
    assert.equal(subsidySats(210_000), 2_500_000_000n);
    assert.equal(subsidySats(839_999), 625_000_000n); // 50 >> 3 = 6.25 BTC
    assert.equal(subsidySats(840_000), 312_500_000n); // 50 >> 4 = 3.125 BTC
    assert.equal(subsidySats(1_050_000), 156_250_000n); // 1.5625 BTC
    assert.equal(subsidySats(32 * 210_000), 1n); // 5e9 >> 32 = 1 sat
    assert.equal(subsidySats(33 * 210_000), 0n);
    assert.equal(subsidySats(64 * 210_000), 0n);
    assert.throws(
      () => subsidySats(-1),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
  });
});

describe('hashvalue and hashprice', () => {
  it('matches the worked example: 1 PH/s, D = 100 T, S + F = 3.2 BTC, $100,000', () => {
    // 1e15 H/s · 86,400 s · 3.2e8 sats / (1e14 · 2^32) = 2.7648e11 / 4294967296 · 1000 = 64,373.016357421875 sats/day
    const d = decimal('100e12');
    const reward = btcToSats('3.2');
    const perDay = expectedSatsPerDay(decimal(1000), d, reward);
    assert.equal(perDay.cmp(new Ratio(64_373_016_357_421_875n, 1_000_000_000_000n)), 0);
    assert.equal(perDay.round(), 64_373n);
    const hp = hashprice(d, reward, usdToMicro(100_000));
    // 64.373016357421875 sats/TH/day · $100,000 / 1e8 = $0.064373016/TH/day = $64.373016/PH/day
    assert.equal(hp.hashvalue_sats_per_th_day.mul(1000n).round(), 64_373n);
    assert.equal(hp.hashprice_micro_usd_per_th_day.round(), 64_373n);
    assert.equal(hp.hashprice_micro_usd_per_ph_day.round(), 64_373_016n);
  });
  it('puts the net figure after the pool fee beside the gross one', () => {
    // 2% fee: 64.373016357421875 · 0.98 = 63.08555603027344 sats/TH/day
    const hp = hashprice(decimal('100e12'), btcToSats('3.2'), usdToMicro(100_000), poolFeeOf(0.02));
    assert.equal(hp.net_hashvalue_sats_per_th_day.mul(1_000_000n).round(), 63_085_556n);
    assert.equal(hp.net_hashprice_micro_usd_per_ph_day.round(), 63_085_556n);
    assert.throws(
      () => poolFeeOf(1),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
    assert.throws(
      () => poolFeeOf(-0.1),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
  });
  it('turns a fee share into fees per block: F = S · share / (1 − share)', () => {
    // S = 3.125 BTC, 20% of the block reward is fees → F = 3.125 · 0.2 / 0.8 = 0.78125 BTC
    assert.equal(feesFromShare(312_500_000n, 0.2).cmp(new Ratio(78_125_000n)), 0);
    assert.throws(
      () => feesFromShare(312_500_000n, 1),
      (e) => EconomicsErrors.invalidInput.is(e),
    );
  });
});

describe('periods cut where inputs change', () => {
  const t0 = Date.UTC(2026, 0, 1);
  const reward = btcToSats('3.2');
  const hours = Array.from({ length: 24 }, (_, i) => ({
    hour_ms: t0 + i * H,
    th_s: new Ratio(1000n * 3600n),
  }));

  it('sums segments across a difficulty change instead of averaging difficulty', () => {
    // 1 PH/s for 24 h; D = 100 T for 12 h then 125 T (retarget at 12:30 → the 12:00 hour is split 30/30 min).
    // 12.5 h at 100 T: 1e15 · 45,000 · 3.2e8 / (1e14 · 2^32) = 33,527.612686157227 sats
    // 11.5 h at 125 T: 1e15 · 41,400 · 3.2e8 / (1.25e14 · 2^32) = 24,676.32293701172 sats
    // total 58,203.935623168945 → 58,204 sats; averaging D (112.5 T) would give 57,220.46 sats.
    const steps: Record<MarketKey, Step<Ratio>[]> = {
      difficulty: [
        { at_ms: t0 - 86_400_000, value: decimal('100e12') },
        { at_ms: t0 + 12.5 * H, value: decimal('125e12') },
      ],
      reward_sats: [{ at_ms: t0 - 86_400_000, value: reward }],
      price_micro_usd: [{ at_ms: t0, value: usdToMicro(100_000) }],
    };
    const segs = cutSegments(t0, t0 + 24 * H, steps);
    assert.equal(segs.length, 2);
    const rev = revenueBySegment(hours, segs);
    const sats = rev.reduce((a, r) => a.add(r.sats!), Ratio.ZERO);
    assert.equal(sats.mul(1_000_000n).round(), 58_203_935_623n);
    assert.equal(sats.round(), 58_204n);
    const averaged = expectedSats(new Ratio(1000n * 86_400n).mul(HASHES_PER_TH), decimal('112.5e12'), reward);
    assert.notEqual(averaged.round(), sats.round());
  });

  it('cuts at the halving block and pays the new subsidy from it', () => {
    // Heights recorded every 6 h; block 840,000 recorded at 10:00. 10 h at 6.25 BTC, 14 h at 3.125 BTC
    // (no fees in this example), D = 100 T, 1 PH/s:
    // 1e15 · 36,000 · 6.25e8 / (1e14 · 2^32) = 52,386.89482212067; 1e15 · 50,400 · 3.125e8 / (1e14 · 2^32) = 36,670.82637548447
    // total 89,057.72119760513 → 89,058 sats.
    const sub = subsidySteps([
      { at_ms: t0 - 6 * H, height: 839_950 },
      { at_ms: t0 + 4 * H, height: 839_990 },
      { at_ms: t0 + 10 * H, height: 840_000 },
      { at_ms: t0 + 16 * H, height: 840_040 },
    ]);
    assert.deepEqual(
      sub.map((s) => [s.at_ms, s.value]),
      [
        [t0 - 6 * H, 625_000_000n],
        [t0 + 10 * H, 312_500_000n],
      ],
    );
    const segs = cutSegments(t0, t0 + 24 * H, {
      difficulty: [{ at_ms: t0 - H, value: decimal('100e12') }],
      reward_sats: sub.map((s) => ({ ...s, value: new Ratio(s.value) })),
      price_micro_usd: [{ at_ms: t0, value: usdToMicro(100_000) }],
    } as Record<MarketKey, Step<Ratio>[]>);
    const sats = revenueBySegment(hours, segs).reduce((a, r) => a.add(r.sats!), Ratio.ZERO);
    assert.equal(sats.round(), 89_058n);
  });

  it('estimates the halving time at 600 s a block when the halving block itself was not recorded', () => {
    // Last record 839,990 at 04:00; 10 blocks · 600 s = 100 min → halving at 05:40, marked estimated.
    const sub = subsidySteps([
      { at_ms: t0 + 4 * H, height: 839_990 },
      { at_ms: t0 + 10 * H, height: 840_030 },
    ]);
    assert.equal(sub[1]!.at_ms, t0 + 4 * H + 6_000_000);
    assert.match(sub[1]!.source!, /estimated/);
  });

  it('leaves revenue in dollars missing (not zero) for a segment with no price', () => {
    const day = 86_400_000;
    const segs = cutSegments(
      t0,
      t0 + 2 * day,
      {
        difficulty: [{ at_ms: t0, value: decimal('100e12') }],
        reward_sats: [{ at_ms: t0, value: reward }],
        price_micro_usd: [{ at_ms: t0, value: usdToMicro(100_000) }],
      } as Record<MarketKey, Step<Ratio>[]>,
      [t0 + day],
      { price_micro_usd: (s) => s.at_ms + day },
    );
    const rev = revenueBySegment(hours, segs);
    assert.equal(rev.length, 2);
    assert.notEqual(rev[0]!.micro_usd, null);
    assert.equal(rev[1]!.micro_usd, null);
    assert.deepEqual(rev[1]!.missing, ['price_micro_usd']);
  });
});

describe('days in the site zone', () => {
  it('knows IANA zones', () => {
    assert.equal(isTimezone('America/Chicago'), true);
    assert.equal(isTimezone('Mars/Olympus'), false);
  });
  it('has a 23 h spring-forward day and a 25 h fall-back day (America/New_York, 2026)', () => {
    const spring = daysBetween(Date.UTC(2026, 2, 8, 12), Date.UTC(2026, 2, 8, 13), 'America/New_York')[0]!;
    assert.equal(spring.date, '2026-03-08');
    assert.equal(spring.start_ms, Date.UTC(2026, 2, 8, 5)); // 00:00 EST = 05:00 UTC
    assert.equal((spring.end_ms - spring.start_ms) / H, 23);
    const fall = daysBetween(Date.UTC(2026, 10, 1, 12), Date.UTC(2026, 10, 1, 13), 'America/New_York')[0]!;
    assert.equal(fall.date, '2026-11-01');
    assert.equal(fall.start_ms, Date.UTC(2026, 10, 1, 4)); // 00:00 EDT = 04:00 UTC
    assert.equal((fall.end_ms - fall.start_ms) / H, 25);
  });
  it('costs a 25 h day 25 hours of energy under a flat tariff', () => {
    // 10 kW for each of the 25 hours of 2026-11-01 at $0.05/kWh = 250 kWh · $0.05 = $12.50
    const day = daysBetween(Date.UTC(2026, 10, 1, 12), Date.UTC(2026, 10, 1, 13), 'America/New_York')[0]!;
    const hours = [];
    for (let t = day.start_ms; t < day.end_ms; t += H) hours.push({ hour_ms: t, wh: new Ratio(10_000n) });
    const c = energyCost(hours, { usd_per_kwh: 0.05 }, 'America/New_York');
    assert.equal(c.kwh.round(), 250n);
    assert.equal(c.micro_usd.round(), 12_500_000n);
  });
});

describe('tariffs', () => {
  const tz = 'America/Chicago';
  const tariff = {
    usd_per_kwh: 0.04,
    windows: [{ name: 'night', days: ['fri'] as const, from_hour: 22, to_hour: 6, usd_per_kwh: 0.1 }],
  };
  // 2026-01-09 is a Friday; Chicago is UTC−6 in January.
  const local = (d: number, h: number) => Date.UTC(2026, 0, d, h + 6);

  it('applies a time-of-use window that crosses midnight to the day it starts on', () => {
    assert.equal(localParts(local(9, 23), tz).weekday, 'fri');
    assert.equal(rateAt(tariff, local(9, 21), tz).period, 'base'); // Fri 21:00
    assert.equal(rateAt(tariff, local(9, 22), tz).period, 'night'); // Fri 22:00
    assert.equal(rateAt(tariff, local(10, 5), tz).period, 'night'); // Sat 05:00, still Friday's window
    assert.equal(rateAt(tariff, local(10, 6), tz).period, 'base'); // Sat 06:00
    assert.equal(rateAt(tariff, local(9, 3), tz).period, 'base'); // Fri 03:00: Thursday has no window
  });
  it('prices each hour at its own rate', () => {
    // 1 MWh an hour from Fri 20:00 to Sat 08:00 (12 h): 20,21 and 6,7 at $0.04 (4 h), 22..5 at $0.10 (8 h)
    // = 4 · 1000 · 0.04 + 8 · 1000 · 0.10 = 160 + 800 = $960
    const hours = Array.from({ length: 12 }, (_, i) => ({
      hour_ms: local(9, 20) + i * H,
      wh: new Ratio(1_000_000n),
    }));
    const c = energyCost(hours, tariff, tz);
    assert.equal(c.micro_usd.round(), 960_000_000n);
    assert.equal(c.by_period.night!.kwh.round(), 8000n);
    assert.equal(c.by_period.base!.micro_usd.round(), 160_000_000n);
  });
  it('charges demand on the month peak, prorated by the covered share of the month', () => {
    // Peak 120 kW in January (31 days); $10/kW-month; a 2-day period → 120 · 10 · 2/31 = $77.419354838…
    const from = local(1, 0);
    const kw = new Map([
      [from, decimal(100)],
      [from + H, decimal(120)],
    ]);
    const d = demandCharge(kw, 10, from, from + 2 * 86_400_000, tz);
    assert.equal(d.micro_usd.round(), 77_419_355n);
    assert.deepEqual(d.peaks, [{ month: '2026-01', peak_kw: 120 }]);
    // Other monthly lines prorate the same way: $3,100/month over 2 of 31 days = $200.
    assert.equal(proratedMonthly(3100, from, from + 2 * 86_400_000, tz).round(), 200_000_000n);
  });
});

describe('cost per BTC, break-even and efficiency', () => {
  it('reports energy-only, cash and all-in cost per BTC', () => {
    // 0.01 BTC produced (1,000,000 sats). Energy $400, demand $50, credits −$30, hosting $100, pool fees $20,
    // opex $60, depreciation $200. Energy-only = 420 → $42,000/BTC; cash = 600 → $60,000; all-in = 800 → $80,000.
    const c = emptyCostLines();
    c.energy = usdToMicro(400);
    c.demand = usdToMicro(50);
    c.curtailment_credits = usdToMicro(-30);
    c.hosting = usdToMicro(100);
    c.pool_fees = usdToMicro(20);
    c.other_opex = usdToMicro(60);
    c.depreciation = usdToMicro(200);
    const per = costPerBtc(c, new Ratio(1_000_000n))!;
    assert.equal(per.energy_only.round(), 42_000_000_000n);
    assert.equal(per.cash.round(), 60_000_000_000n);
    assert.equal(per.all_in.round(), 80_000_000_000n);
    assert.equal(costPerBtc(c, Ratio.ZERO), null);
    // Break-even hashprice: (cash − pool fees) / TH·days / (1 − fee) = 580 / 10,000 TH·days / 0.98 = $0.059183673…/TH/day
    assert.equal(breakEvenHashprice(c, new Ratio(10_000n), decimal(0.02))!.round(), 59_184n);
  });
  it('gives break-even power price and fleet J/TH as Σ W / Σ TH/s', () => {
    // $1,000 net revenue over 20,000 kWh → $0.05/kWh
    assert.equal(breakEvenPowerPrice(usdToMicro(1000), decimal(20_000))!.round(), 50_000n);
    // Two rigs for 1 h: 3,250 W at 110 TH/s and 3,500 W at 200 TH/s → (3250+3500)/(110+200) = 21.774 J/TH,
    // not the mean of 29.545 and 17.5 (23.52).
    const j = joulesPerTh(decimal(6750), new Ratio(310n * 3600n))!;
    assert.equal(j.mul(1000n).round(), 21_774n);
  });
});

/**
 * End to end: a real embedded store filled with a two-rig fleet's polls at controlled times (one rig metered
 * by a PDU, one reporting its own power), a mempool-shaped market provider on loopback serving a recorded
 * series, a flat tariff, and the API answering /v1/economics. Then the provider stops for a day.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { economicsSettings, rigMetaFrom } from '../collector/economics/wiring.js';
import { mempoolProvider } from '../collector/market/providers.js';
import { MarketService } from '../collector/market/service.js';
import { MarketStore } from '../collector/market/store.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import type { FleetView } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import type { Sample } from '../protocols/sample.js';
import { makeSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';

const H = 3_600_000;
const INTERVAL = 300_000;
// 2026-01-14 00:00 in America/Chicago (CST, UTC−6) = 06:00 UTC; three ordinary 24 h days follow.
const T0 = Date.UTC(2026, 0, 14, 6);
const DAY = 24 * H;
const PRICES = [100_000, 90_000, 95_000];

let clock = T0 - H;
let server: Server;
let url = '';
let dir = '';
let store: EmbeddedStore;
let market: MarketService;
let app: FastifyInstance;
let seq = 0;

/** A mempool-style API replaying a recorded series: one retarget (D = 100 T), 0.075 BTC fees a block, daily prices. */
function startProvider(port = 0): Promise<Server> {
  const s = createServer((req, res) => {
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    if (path === '/api/v1/mining/difficulty-adjustments/3m') {
      return send([[(T0 - 5 * DAY) / 1000, 899_136, 100_000_000_000_000, 1.2]]);
    }
    if (path === '/api/blocks/tip/height') return send(900_000);
    if (path === '/api/v1/mining/reward-stats/144') {
      // 144 blocks, 10.8 BTC of fees → 7,500,000 sats a block; with the 3.125 BTC subsidy, 3.2 BTC a block.
      return send({
        startBlock: 899_857,
        endBlock: 900_000,
        totalReward: '45900000000',
        totalFee: '1080000000',
        totalTx: '512345',
      });
    }
    if (path === '/api/v1/prices') {
      const day = Math.floor((clock - T0) / DAY);
      return send({ time: Math.floor(clock / 1000), USD: PRICES[day] ?? 0, EUR: 1, GBP: 1 });
    }
    res.statusCode = 404;
    res.end('not found');
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

function rigSample(rigId: string, at: number, ths: number, w: number, src: 'pdu' | 'miner'): Sample {
  return makeSample(
    rigId,
    at,
    { hashrate_hs: ths * 1e12, power_w: w, power_source: src, state: 'mining' },
    'tx-1',
  );
}

/** Poll results every 5 min and a market refresh at half past every hour, from `from` to `to`. */
async function run(from: number, to: number): Promise<void> {
  for (let t = from; t < to; t += INTERVAL) {
    clock = t;
    store.writeSync([
      { seq: ++seq, sample: rigSample('rig-pdu', t, 100, 3000, 'pdu') },
      { seq: ++seq, sample: rigSample('rig-own', t, 50, 1500, 'miner') },
    ]);
    if ((t - T0) % H === H / 2) await market.refreshAll();
  }
}

const fleet: FleetView = {
  list: () => [],
  get: () => undefined,
};

async function economics(from: number, to: number) {
  const res = await app.inject({ url: `/v1/economics?from=${from}&to=${to}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

describe('/v1/economics end to end', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-'));
    server = await startProvider();
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = validateConfig({
      site: { name: 'tx-1', timezone: 'America/Chicago' },
      storage: { dir },
      economics: { pool_fee: 0.02, tariff: { usd_per_kwh: 0.05 } },
    });
    store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24 * 400,
      rollupRetentionDays: 3650,
      intervalMs: INTERVAL,
      backoffMaxMs: INTERVAL,
      now: () => clock,
    });
    market = new MarketService(
      MarketStore.open(dir),
      [mempoolProvider({ name: 'mempool-local', url, timeout_ms: 2000, refresh_ms: H })],
      { now: () => clock },
    );
    app = buildApp({
      fleet,
      history: store,
      health: {
        started_ms: T0 - H,
        sinks: () => [],
        polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
      },
      config,
      now: () => clock,
      economics: {
        market,
        rollups: store,
        settings: economicsSettings(config, INTERVAL),
        meta: rigMetaFrom(fleet, config),
      },
    });
    clock = T0 - H;
    await market.refreshAll();
    await run(T0 - 2 * INTERVAL, T0 + 2 * DAY + 2 * INTERVAL);
  });
  after(async () => {
    await app?.close();
    market?.stop();
    market?.store.close();
    await store?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let twoDays: { days: unknown[]; totals: Record<string, unknown> };

  test('two days: hand-checked revenue, kWh by source, cost per BTC', async () => {
    const r = await economics(T0, T0 + 2 * DAY);
    twoDays = r;
    assert.equal(r.complete, true, JSON.stringify(r.incomplete));
    assert.equal(r.timezone, 'America/Chicago');
    assert.deepEqual(
      r.days.map((d: { date: string; hours: number }) => [d.date, d.hours]),
      [
        ['2026-01-14', 24],
        ['2026-01-15', 24],
      ],
    );
    const t = r.totals;
    // Hashvalue at D = 100 T and 3.2 BTC a block: 1e12 · 86,400 · 3.2e8 / (1e14 · 2^32) = 64.373016357421875 sats/TH/day.
    // 150 TH/s measured (100 + 50) → 9,655.95245361328125 sats a day; two days 19,311.904907226562 → 19,312 sats.
    assert.equal(t.revenue.expected_sats, 19_312);
    // Day 1 at $100,000: 9,655.95245361328125 sats · 1,000 µ$/sat = 9,655,952.45 µ$;
    // day 2 at $90,000: · 900 = 8,690,357.21 µ$; sum 18,346,309.66 → 18,346,310 µ$ ($18.35).
    assert.equal(t.revenue.expected_usd_micro, 18_346_310);
    assert.deepEqual(
      r.days.map((d: { expected_usd_micro: number }) => d.expected_usd_micro),
      [9_655_952, 8_690_357],
    );
    // Net of the 2 % pool fee: 18,346,309.66 · 0.98 = 17,979,383.47 µ$.
    assert.equal(t.revenue.net_usd_micro, 17_979_383);
    // Energy: 3 kW metered · 48 h = 144 kWh (pdu), 1.5 kW miner-reported · 48 h = 72 kWh (miner).
    assert.equal(t.energy.kwh, 216);
    assert.deepEqual(t.energy.kwh_by_source, { pdu: 144, miner: 72, estimate: 0, unknown: 0 });
    assert.equal(t.energy.share_by_source.pdu, 0.6667);
    // Energy cost 216 kWh · $0.05 = $10.80; pool fees 2 % of $18.3463 = 366,926.19 µ$.
    assert.equal(t.costs_usd_micro.energy, 10_800_000);
    assert.equal(t.costs_usd_micro.pool_fees, 366_926);
    // Cost per BTC: energy only $10.80 / 0.000193119049 BTC = $55,924.053333…;
    // cash ($10.80 + $0.366926) / 0.000193119049 BTC = $57,824.053333….
    assert.equal(t.cost_per_btc_usd_micro.energy_only, 55_924_053_333);
    assert.equal(t.cost_per_btc_usd_micro.cash, 57_824_053_333);
    // J/TH = (3,000 + 1,500) W / 150 TH/s = 30.
    assert.equal(t.j_per_th, 30);
    // Break-even power price: $17.979383 net / 216 kWh = $0.0832379/kWh.
    assert.equal(t.break_even.power_usd_per_kwh_micro, 83_238);
    // Break-even hashprice: $10.80 cash cost without pool fees / 300 TH·days / 0.98 = $0.0367347/TH/day.
    assert.equal(t.break_even.hashprice_usd_per_th_day_micro, 36_735);
    // Realized $17.979383 / 300 TH·days = $0.0599313/TH/day, beside the network's gross hashprice averaged
    // over the two days (64,373.016 + 57,935.715) / 2 = 61,154.37 µ$/TH/day.
    assert.equal(t.realized_usd_per_th_day_micro, 59_931);
    assert.equal(t.network_hashprice_usd_per_th_day_micro, 61_154);
    assert.deepEqual(t.coverage, {
      polls_expected: 1152,
      polls_answered: 1152,
      power_expected_h: 96,
      power_covered_h: 96,
    });
    assert.match(r.rounding, /half to even/);
  });

  test('the provider stopped for a day makes that day incomplete and leaves the others as they were', async () => {
    // Drop the kept-alive connections too, so the next request really finds nobody listening.
    server.close();
    server.closeAllConnections();
    await run(T0 + 2 * DAY + 2 * INTERVAL, T0 + 3 * DAY + 2 * INTERVAL);
    const r = await economics(T0, T0 + 3 * DAY);
    assert.equal(r.complete, false);
    assert.deepEqual(r.incomplete, [
      { kind: 'market', date: '2026-01-16', missing: ['price_usd'], hours: 24 },
    ]);
    const [d1, d2, d3] = r.days;
    assert.deepEqual([d1, d2], twoDays.days);
    assert.equal(d3.complete, false);
    // Difficulty holds through its epoch and the last fee figure is within fees_valid_ms: BTC is still known,
    // dollars are not (never 0, never yesterday's price carried over).
    assert.equal(d3.expected_sats, 9_656);
    assert.equal(d3.expected_usd_micro, null);
    assert.equal(d3.btc_price_usd, null);
    assert.equal(r.totals.revenue.sats_without_price, 9_656);
    assert.equal(r.totals.revenue.expected_usd_micro, 18_346_310);

    const health = await app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 503);
    assert.match(
      health.json().problems.join('\n'),
      /market provider mempool-local failing .*RT_ERR_MARKET_PROVIDER/,
    );
    const metrics = await app.inject({ url: '/metrics' });
    assert.match(metrics.body, /^rigtel_market_provider_up\{provider="mempool-local"\} 0$/m);
  });

  test('a power gap makes that rig-day incomplete', async () => {
    // rig-own goes silent for 3 h on day 4; rig-pdu keeps answering.
    const start = T0 + 3 * DAY + 2 * INTERVAL;
    server = await startProvider(Number(new URL(url).port));
    for (let t = start; t < T0 + 4 * DAY + 2 * INTERVAL; t += INTERVAL) {
      clock = t;
      const silent = t >= T0 + 3 * DAY + 10 * H && t < T0 + 3 * DAY + 13 * H;
      store.writeSync([
        { seq: ++seq, sample: rigSample('rig-pdu', t, 100, 3000, 'pdu') },
        ...(silent ? [] : [{ seq: ++seq, sample: rigSample('rig-own', t, 50, 1500, 'miner') }]),
      ]);
      if ((t - T0) % H === H / 2) await market.refreshAll();
    }
    const r = await economics(T0 + 3 * DAY, T0 + 4 * DAY);
    const kinds = r.incomplete
      .map((x: { kind: string; rig_id?: string }) => `${x.kind}:${x.rig_id ?? ''}`)
      .sort();
    assert.deepEqual(kinds, ['polls:rig-own', 'power_gap:rig-own']);
    const gap = r.incomplete.find((x: { kind: string }) => x.kind === 'power_gap');
    // Last answer 09:55, next 13:00: 3 h 05 min exceeds the 2 × interval gap cap, so none of it is integrated
    // (a gap stays a gap): 24 h − 3.0833 h = 20.92 h covered.
    assert.equal(gap.expected_h, 24);
    assert.equal(gap.covered_h, 20.92);
    // Energy of the gap is missing, not estimated: 72 kWh (pdu) + 1.5 kW · 20.9167 h = 31.375 kWh (miner).
    assert.equal(r.totals.energy.kwh_by_source.pdu, 72);
    assert.equal(r.totals.energy.kwh_by_source.miner, 31.375);
  });
});

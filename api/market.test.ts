import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { economicsSettings } from '../collector/economics/wiring.js';
import { bitcoindProvider, fixedProvider, mempoolProvider } from '../collector/market/providers.js';
import { MarketService } from '../collector/market/service.js';
import { MarketStore } from '../collector/market/store.js';
import type { FleetView, RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { Secret } from '../lib/secret.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { buildApp } from './app.js';

const NOW = Date.parse('2026-01-14T18:00:00Z');

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

function rig(id: string, ths: number, w: number, src: 'pdu' | 'miner'): RigStatus {
  const r = emptyReading('antminer');
  const s = {
    ...r,
    identity: { ...r.identity, model: 'Antminer S19 Pro' },
    state: 'mining',
    hashrate_hs: ths * 1e12,
    power_w: w,
    power_source: src,
    rig_id: id,
    at_ms: NOW - 5000,
  } as Sample;
  return {
    rig_id: id,
    name: id,
    address: `127.0.0.1:${id.length}`,
    state: 'mining',
    current: s,
    last_seen_ms: NOW - 5000,
    last_poll_ms: NOW - 5000,
    last_error: null,
    consecutive_failures: 0,
    next_poll_ms: NOW + 5000,
  };
}

describe('market routes and providers', () => {
  let app: FastifyInstance;
  let market: MarketService;
  const rigs = [rig('r1', 100, 3000, 'pdu'), rig('r2', 50, 1500, 'miner')];
  const fleet: FleetView = { list: () => rigs, get: (id) => rigs.find((r) => r.rig_id === id) };

  before(async () => {
    const config = validateConfig({
      site: { name: 'tx-1', timezone: 'America/Chicago' },
      economics: { pool_fee: 0.02, tariff: { usd_per_kwh: 0.05 } },
    });
    // Recorded: D = 100 T, height 900,000 (3.125 BTC), 0.075 BTC fees, $100,000.
    market = new MarketService(
      MarketStore.open(':memory:'),
      [
        fixedProvider('config', {
          difficulty: 100e12,
          height: 900_000,
          fees_btc_per_block: 0.075,
          btc_price_usd: 100_000,
        }),
      ],
      { now: () => NOW },
    );
    await market.refreshAll();
    app = buildApp({
      fleet,
      history: { history: () => [], rigIds: () => [] },
      health: {
        started_ms: NOW,
        sinks: () => [],
        polling: () => ({ rigs: 2, up: 2, last_sweep_ms: NOW, last_sweep_duration_ms: 10 }),
      },
      config,
      now: () => NOW,
      economics: {
        market,
        rollups: { rigIds: () => [], rollups: () => [] },
        settings: economicsSettings(config, 30_000),
        meta: () => ({ model: null, rack: null }),
      },
    });
  });
  after(async () => {
    await app.close();
    market.store.close();
  });

  test('hashprice matches the worked example: D = 100 T, S + F = 3.2 BTC, $100,000', async () => {
    const res = await app.inject({
      url: '/v1/market/hashprice?difficulty=100e12&subsidy_btc=3.125&fees_btc_per_block=0.075&btc_price_usd=100000&pool_fee=0',
    });
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json();
    // 1e12 · 86,400 · 3.2e8 / (1e14 · 2^32) = 64.373016357421875 sats/TH/day → 64,373 sats/PH/day, $64.37/PH/day.
    assert.equal(b.gross.hashvalue_sats_per_th_day, 64.373016);
    assert.equal(b.gross.hashvalue_sats_per_ph_day, 64_373);
    assert.equal(b.gross.hashprice_usd_per_ph_day, '64.37');
    assert.equal(b.gross.hashprice_usd_per_ph_day_micro, 64_373_016);
    assert.equal(b.net.hashprice_usd_per_ph_day_micro, 64_373_016);
    for (const k of ['difficulty', 'btc_price_usd', 'subsidy_sats', 'fees_sats_per_block', 'pool_fee']) {
      assert.equal(b.inputs[k].given, true, k);
    }
  });

  test('inputs not given come from the latest recorded values, and say which', async () => {
    const res = await app.inject({ url: '/v1/market/hashprice?btc_price_usd=50000' });
    const b = res.json();
    assert.equal(b.inputs.btc_price_usd.given, true);
    assert.equal(b.inputs.difficulty.given, false);
    assert.match(
      b.inputs.difficulty.source,
      /^recorded: config \(fixed in config\) at 2026-01-14T18:00:00.000Z/,
    );
    assert.equal(b.inputs.subsidy_sats.value, 312_500_000);
    assert.match(b.inputs.subsidy_sats.source, /height 900000/);
    assert.equal(b.inputs.pool_fee.source, 'config: economics.pool_fee');
    // Half the price: 64.373016… sats at $50,000 → $32.19/PH/day gross; net of 2 %: $31.54.
    assert.equal(b.gross.hashprice_usd_per_ph_day, '32.19');
    assert.equal(b.net.hashprice_usd_per_ph_day, '31.54');
    // A fee share instead of BTC: 20 % of the reward at 3.125 BTC subsidy → 0.78125 BTC fees.
    const share = (await app.inject({ url: '/v1/market/hashprice?fee_share=0.2&height=840000' })).json();
    assert.equal(share.inputs.fees_sats_per_block.value, 78_125_000);
  });

  test('impossible values get 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['difficulty=0', 'difficulty'],
      ['difficulty=-5', 'difficulty'],
      ['btc_price_usd=abc', 'btc_price_usd'],
      ['pool_fee=1', 'pool_fee'],
      ['fee_share=1', 'fee_share'],
      ['height=1.5', 'height'],
      ['subsidy_btc=51', 'subsidy_btc'],
      ['height=1&subsidy_btc=1', 'subsidy_btc'],
      ['fees_btc_per_block=1&fee_share=0.1', 'fee_share'],
      ['difficulty=1&difficulty=2', 'difficulty'],
      ['planet=mars', 'planet'],
    ];
    for (const [q, field] of cases) {
      const res = await app.inject({ url: `/v1/market/hashprice?${q}` });
      assert.equal(res.statusCode, 400, q);
      assert.equal(res.json().error.field, field, `${q}: ${res.body}`);
      assert.match(res.json().error.code, /^RT_ERR_/);
    }
  });

  test('/v1/market shows the latest inputs with time and source; /v1/market/history lists them', async () => {
    const b = (await app.inject({ url: '/v1/market' })).json();
    assert.equal(b.difficulty.value, 100e12);
    assert.equal(b.difficulty.source, 'config');
    assert.equal(b.subsidy_sats, 312_500_000);
    assert.equal(b.fees_sats_per_block.value, 7_500_000);
    assert.equal(b.btc_price_usd.value, 100_000);
    assert.deepEqual(b.missing, []);
    assert.equal(b.providers[0].state, 'ok');
    const h = (await app.inject({ url: `/v1/market/history?from=${NOW - 1000}&to=${NOW + 1000}` })).json();
    assert.deepEqual(h.values.map((v: { kind: string }) => v.kind).sort(), [
      'difficulty',
      'fees_btc_per_block',
      'height',
      'price_usd',
    ]);
    assert.equal((await app.inject({ url: '/v1/market/history?from=10&to=5' })).json().error.field, 'from');
  });

  test('/v1/economics/live: revenue and cost per day now', async () => {
    const b = (await app.inject({ url: '/v1/economics/live' })).json();
    // 150 TH/s · 64.373016357421875 = 9,655.95 sats/day → $9.655952 at $100,000; 4.5 kW · 24 h · $0.05 = $5.40.
    assert.equal(b.fleet.revenue_sats_per_day, 9656);
    assert.equal(b.fleet.revenue_usd_per_day_micro, 9_655_952);
    assert.equal(b.fleet.cost_usd_per_day_micro.energy, 5_400_000);
    // Cash = energy + 2 % pool fee (193,119 µ$) = 5,593,119 µ$; profit = 9,655,952 − 5,593,119.
    assert.equal(b.fleet.cost_usd_per_day_micro.cash, 5_593_119);
    assert.equal(b.fleet.profit_usd_per_day_micro, 4_062_833);
    assert.deepEqual(b.fleet.power_w_by_source, { pdu: 3000, miner: 1500, estimate: 0 });
    assert.equal(b.fleet.j_per_th, 30);
    assert.equal(b.hashprice.hashprice_usd_per_ph_day_micro, 64_373_016);
    // r1: 100 TH/s → $6.437301 gross · 0.98 = $6.308555 net over 72 kWh → break-even $0.087619/kWh.
    assert.equal(b.rigs[0].break_even_usd_per_kwh_micro, 87_619);
    assert.equal(b.complete, true);
    const metrics = await app.inject({ url: '/metrics' });
    assert.match(metrics.body, /^rigtel_revenue_usd_per_day 9\.655952$/m);
    assert.match(metrics.body, /^rigtel_hashprice_usd_per_ph_day 64\.373016$/m);
  });

  test('without a tariff, costs are null (never 0 or an empty object) and the report says why', async () => {
    const config = validateConfig({ site: { name: 'tx-1' } });
    const bare = buildApp({
      fleet,
      history: { history: () => [], rigIds: () => [] },
      health: {
        started_ms: NOW,
        sinks: () => [],
        polling: () => ({ rigs: 2, up: 2, last_sweep_ms: NOW, last_sweep_duration_ms: 10 }),
      },
      config,
      now: () => NOW,
      economics: {
        market,
        rollups: { rigIds: () => [], rollups: () => [] },
        settings: economicsSettings(config, 30_000),
        meta: () => ({ model: null, rack: null }),
      },
    });
    try {
      const r = (await bare.inject({ url: '/v1/economics' })).json();
      assert.equal(r.totals.costs_usd_micro, null);
      assert.equal(r.totals.cost_per_btc_usd_micro, null);
      assert.equal(r.totals.break_even.hashprice_usd_per_th_day_micro, null);
      assert.ok(r.incomplete.some((x: { kind: string }) => x.kind === 'no_tariff'));
      const live = (await bare.inject({ url: '/v1/economics/live' })).json();
      assert.equal(live.fleet.cost_usd_per_day_micro.energy, null);
      assert.equal(live.fleet.profit_usd_per_day_micro, null);
      assert.ok(live.missing.includes('tariff'));
    } finally {
      await bare.close();
    }
  });

  test('Bitcoin Core JSON-RPC provider: difficulty from the retarget header, fees per block actual', async () => {
    const calls: string[] = [];
    const { server, url } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const { method, params, id } = JSON.parse(body);
        calls.push(`${method}:${req.headers.authorization ?? ''}`);
        const results: Record<string, unknown> = {
          getblockchaininfo: {
            chain: 'main',
            blocks: 900_100,
            headers: 900_100,
            difficulty: 126_982_285_146_989.3,
          },
          getblockhash: '00000000000000000001a2b3',
          getblockheader: {
            hash: '00000000000000000001a2b3',
            height: 899_136,
            time: 1_768_000_000,
            difficulty: 126_982_285_146_989.3,
          },
          getblockstats: { height: 900_100, time: 1_768_300_000, subsidy: 312_500_000, totalfee: 2_345_678 },
        };
        assert.deepEqual(method === 'getblockhash' ? params : [], method === 'getblockhash' ? [899_136] : []);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result: results[method] ?? null, error: null, id }));
      });
    });
    try {
      const p = bitcoindProvider({
        name: 'node',
        url,
        username: 'rpc',
        password: new Secret('s3cret'),
        timeout_ms: 2000,
        refresh_ms: 60_000,
      });
      const values = await p.fetch(NOW);
      const by = (k: string) => values.filter((v) => v.kind === k);
      assert.deepEqual(
        by('difficulty').map((v) => [v.at_ms, v.value]),
        [[1_768_000_000_000, '126982285146989.3']],
      );
      assert.deepEqual(
        by('fees_btc_per_block').map((v) => [v.at_ms, v.value, v.basis]),
        [[1_768_300_000_000, '0.02345678', 'per-block actual']],
      );
      assert.equal(calls[0], `getblockchaininfo:Basic ${Buffer.from('rpc:s3cret').toString('base64')}`);
    } finally {
      server.close();
    }
  });

  test('a provider that times out or answers the wrong shape fails with RT_ERR_MARKET_PROVIDER and records nothing', async () => {
    const { server, url } = await listen((req, res) => {
      if (req.url?.startsWith('/api/v1/mining/difficulty-adjustments')) {
        res.end(JSON.stringify({ unexpected: true }));
        return;
      }
      // Never answers.
    });
    const store = MarketStore.open(':memory:');
    try {
      const svc = new MarketService(store, [
        mempoolProvider({ name: 'odd', url, timeout_ms: 300, refresh_ms: 60_000 }),
        mempoolProvider({ name: 'slow', url: `${url}/slow`, timeout_ms: 300, refresh_ms: 60_000 }),
      ]);
      await svc.refreshAll();
      const st = svc.statuses();
      assert.equal(st[0]!.state, 'failing');
      assert.equal(st[0]!.last_error!.code, 'RT_ERR_MARKET_PROVIDER');
      assert.match(st[0]!.last_error!.message, /difficulty-adjustments: expected an array/);
      assert.match(st[1]!.last_error!.message, /no reply within 300 ms/);
      assert.equal(store.latest('difficulty'), null);
      assert.equal(svc.problems().length, 2);
    } finally {
      store.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

/**
 * Benchmark (prints figures, asserts nothing): `GET /v1/economics` over 30 days of hourly rollups for 1,000 rigs
 * in a real embedded store, grouped by fleet and by rig, and `GET /v1/market/hashprice` requests per second
 * (fastify inject, no socket).
 *
 *   node --import tsx economics/economics.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../api/app.js';
import { economicsSettings } from '../collector/economics/wiring.js';
import { fixedProvider } from '../collector/market/providers.js';
import { MarketService } from '../collector/market/service.js';
import { MarketStore } from '../collector/market/store.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { validateConfig } from '../config/load.js';

const RIGS = Number(process.env.BENCH_RIGS ?? 1000);
const DAYS = 30;
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 6);
const END = T0 + DAYS * 24 * H;

const dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-bench-'));
const store = EmbeddedStore.open(dir, {
  rawRetentionHours: 24,
  rollupRetentionDays: 3650,
  intervalMs: 30_000,
  backoffMaxMs: 300_000,
  now: () => END,
});
// Rollups written straight into the store's table (as its ingest would leave them after a month of polls).
let t = performance.now();
const ins = store.db.prepare(
  `INSERT INTO rollups (rig_id, hour_ms, polls, polls_ok, polls_expected, hashrate_sum, hashrate_n, power_sum,
     power_n, source_rank, energy_wh, energy_s, temp_chip_max_c, mining_s, curtailed_s, offline_s, covered_s)
   VALUES (?,?,120,120,120,?,120,?,120,?,?,3600,75,3600,0,0,3600)`,
);
const last = store.db.prepare(
  'INSERT INTO rig_last (rig_id, at_ms, ok, state, power_w, first_ms) VALUES (?,?,1,?,?,?)',
);
store.db.transaction(() => {
  for (let r = 0; r < RIGS; r++) {
    const id = `rig-${String(r).padStart(4, '0')}`;
    const ths = 90 + (r % 30);
    const w = 3000 + (r % 7) * 50;
    for (let h = T0 - H; h < END; h += H) ins.run(id, h, ths * 1e12 * 120, w * 120, (r % 3) + 1, w);
    last.run(id, END, 'mining', w, T0 - H);
  }
})();
console.log(
  `setup: ${RIGS} rigs × ${DAYS * 24} h rollups written in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

const config = validateConfig({
  site: { name: 'bench', timezone: 'America/Chicago' },
  storage: { dir },
  economics: {
    pool_fee: 0.02,
    tariff: {
      usd_per_kwh: 0.04,
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from_hour: 14, to_hour: 20, usd_per_kwh: 0.09 }],
      demand_usd_per_kw_month: 8,
    },
    hosting_usd_per_rig_month: 5,
    depreciation_usd_per_rig_month: 60,
  },
});
let clock = T0 - 2 * H;
const market = new MarketService(
  MarketStore.open(dir),
  [
    fixedProvider('config', {
      difficulty: 110e12,
      height: 930_000,
      fees_btc_per_block: 0.03,
      btc_price_usd: 95_000,
    }),
  ],
  { now: () => clock },
);
for (; clock < END; clock += 6 * H) await market.refreshAll();
const app = buildApp({
  fleet: { list: () => [], get: () => undefined },
  history: store,
  health: {
    started_ms: T0,
    sinks: () => [],
    polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
  },
  config,
  now: () => END,
  economics: {
    market,
    rollups: store,
    settings: economicsSettings(config, 30_000),
    meta: (id) => ({ model: null, rack: `rack-${id.slice(-1)}` }),
  },
});

async function time(label: string, url: string, runs: number) {
  const ms: number[] = [];
  let body = '';
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const res = await app.inject({ url });
    ms.push(performance.now() - s);
    body = res.body;
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${body.slice(0, 200)}`);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `${label}: median ${ms[Math.floor(runs / 2)]!.toFixed(0)} ms, min ${ms[0]!.toFixed(0)} ms (${runs} runs, reply ${(body.length / 1024).toFixed(0)} KiB)`,
  );
  return JSON.parse(body);
}

t = performance.now();
let rows = 0;
for (const id of store.rigIds()) rows += store.rollups(id, T0, END).length;
console.log(
  `reading the rollups alone (store.rollups per rig): ${((performance.now() - t) / 1000).toFixed(1)} s for ${rows} rows`,
);

const range = `from=${T0}&to=${END}`;
const fleet = await time('GET /v1/economics 30 d × 1,000 rigs, group=fleet', `/v1/economics?${range}`, 3);
console.log(
  `  complete=${fleet.complete} expected_sats=${fleet.totals.revenue.expected_sats} kwh=${fleet.totals.energy.kwh}`,
);
await time('GET /v1/economics 30 d × 1,000 rigs, group=rig', `/v1/economics?${range}&group=rig`, 3);

const N = 5000;
t = performance.now();
for (let i = 0; i < N; i++) {
  const res = await app.inject({
    url: `/v1/market/hashprice?difficulty=${100e12 + i}&btc_price_usd=100000&pool_fee=0.02`,
  });
  if (res.statusCode !== 200) throw new Error(res.body);
}
console.log(
  `GET /v1/market/hashprice: ${Math.round(N / ((performance.now() - t) / 1000))} req/s (inject, one at a time)`,
);
t = performance.now();
for (let i = 0; i < N; i++) await app.inject({ url: '/v1/market/hashprice' });
console.log(
  `GET /v1/market/hashprice (all inputs recorded): ${Math.round(N / ((performance.now() - t) / 1000))} req/s`,
);

await app.close();
market.store.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

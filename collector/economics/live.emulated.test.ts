/**
 * Live economics from a real poll of the emulated fleet on loopback: two emulated Antminers polled by the
 * collector runtime, one metered by a PDU reading, one not; a fixed market; the API's /v1/economics/live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../api/app.js';
import { validateConfig } from '../../config/load.js';
import { startEmulatedFleet } from '../../protocols/emulator/fleet.js';
import { estimatePowerW } from '../../protocols/models.js';
import { driverFor } from '../../protocols/registry.js';
import { silentLogger } from '../journal.js';
import { fixedProvider } from '../market/providers.js';
import { MarketService } from '../market/service.js';
import { MarketStore } from '../market/store.js';
import type { PowerMeter } from '../power.js';
import { startCollector, targetsFromConfig } from '../runtime.js';
import { economicsSettings, rigMetaFrom } from './wiring.js';

test('live revenue and cost per day from a polled emulated fleet, metered and unmetered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-live-'));
  const fleet = await startEmulatedFleet({ count: 2, host: '127.0.0.1', basePort: 0, mix: 'antminer' });
  try {
    const config = validateConfig({
      site: { name: 'emu', timezone: 'Europe/Berlin' },
      storage: { dir },
      rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: 'antminer' })),
      economics: { pool_fee: 0.01, tariff: { usd_per_kwh: 0.06 } },
    });
    const meteredName = config.rigs[0]!.name!;
    const meter: PowerMeter = {
      reading: (k) =>
        k.name === meteredName
          ? { watts: 3400, energy_wh: null, at_ms: Date.now(), meter: 'pdu-1 outlet 1' }
          : null,
    };
    const rt = await startCollector(config, targetsFromConfig(config), {
      log: silentLogger,
      driverFor,
      estimatePowerW,
      meter,
      autoStart: false,
    });
    const market = new MarketService(MarketStore.open(dir), [
      fixedProvider('config', {
        difficulty: 100e12,
        height: 900_000,
        fees_btc_per_block: 0.075,
        btc_price_usd: 100_000,
      }),
    ]);
    await market.refreshAll();
    const app = buildApp({
      fleet: rt.fleet,
      history: rt.history,
      health: rt.health,
      config,
      economics: {
        market,
        rollups: rt.store,
        settings: economicsSettings(config, config.poll.interval_ms),
        meta: rigMetaFrom(rt.fleet, config),
      },
    });
    try {
      const round = await rt.sweepNow();
      assert.equal(round.answered, 2);
      const rigs = rt.fleet.list();
      const hashing = rigs.filter((r) => (r.current?.hashrate_hs ?? 0) > 0);
      assert.ok(hashing.length > 0, 'the emulated rigs report a hashrate');
      const live = (await app.inject({ url: '/v1/economics/live' })).json();
      // Independent check: Σ measured TH/s · 64.373016357421875 sats/TH/day (D = 100 T, 3.2 BTC) · $100,000.
      const ths = rigs.reduce((a, r) => a + (r.current?.hashrate_hs ?? 0) / 1e12, 0);
      assert.ok(Math.abs(live.fleet.hashrate_ths - ths) < 0.001);
      assert.ok(Math.abs(live.fleet.revenue_usd_per_day_micro - ths * 64.373016357421875 * 1000) <= 1);
      // One rig metered by the PDU (3,400 W), the other on its own or the model's figure.
      assert.equal(live.fleet.power_w_by_source.pdu, 3400);
      const other = live.rigs.find((r: { name: string }) => r.name !== meteredName);
      assert.notEqual(other.power_source, 'pdu');
      // Energy per day at $0.06/kWh: Σ W · 24 / 1000 · 0.06.
      const watts = rigs.reduce((a, r) => a + (r.current?.power_w ?? 0), 0);
      assert.ok(Math.abs(live.fleet.cost_usd_per_day_micro.energy - watts * 24 * 0.06 * 1000) <= 1);
      assert.equal(live.fleet.rigs_with_reading, 2);
    } finally {
      await app.close();
      market.stop();
      market.store.close();
      await rt.stop();
    }
  } finally {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

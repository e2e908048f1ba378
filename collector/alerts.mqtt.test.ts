// One alert engine feeds both the API and MQTT: a real collector polls a real emulated rig over loopback and
// writes to the shared Mosquitto on 127.0.0.1:1883 (unique topic prefix); the rig goes dark and comes back, and
// /v1/alerts and the MQTT alerts topic must tell the same story with the same alert id.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { buildApp } from '../api/app.js';
import { validateConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { startEmulatedRig } from '../protocols/emulator/server.js';
import { driverFor } from '../protocols/registry.js';
import type { AlertEvent } from './alerts.js';
import { startCollector, targetsFromConfig } from './runtime.js';

const BROKER = 'mqtt://127.0.0.1:1883';
const PREFIX = `rigtel-alerts-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('one alert engine for the API and MQTT', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an offline rig raises one alert seen with the same id in /v1/alerts and on MQTT, and clears in both', async () => {
    const rig = await startEmulatedRig({ personality: 'antminer-s19pro', host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-alerts-mqtt-'));
    dirs.push(dir);
    const config = validateConfig({
      site: { name: 'alert-site' },
      storage: { dir, journal_fsync: 'off' },
      poll: { interval_ms: 60_000 },
      rigs: [{ name: 'r1', address: rig.address, family: 'antminer' }],
      // Only the offline rule: the emulated rig's own figures (hashrate, temperatures) must not add alerts here.
      alerts: {
        min_duration_s: 0,
        clear_duration_s: 0,
        hashrate_low: { enabled: false },
        temperature: { enabled: false },
        fan_failed: { enabled: false },
        board_missing: { enabled: false },
        power_source_changed: { enabled: false },
      },
      sinks: { mqtt: { enabled: true, url: BROKER, topic_prefix: PREFIX, client_id: `${PREFIX}-collector` } },
      api: { enabled: false },
    });
    const got: AlertEvent[] = [];
    const sub = mqtt.connect(BROKER, { clientId: `${PREFIX}-sub` });
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => resolve());
      sub.once('error', reject);
    });
    sub.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString()) as AlertEvent));
    await sub.subscribeAsync(`${PREFIX}/alert-site/alerts`, { qos: 1 });

    const collector = await startCollector(config, targetsFromConfig(config), {
      log: silentLogger,
      driverFor,
      autoStart: false,
    });
    const app = buildApp({
      fleet: collector.fleet,
      history: collector.history,
      health: collector.health,
      config,
      alerts: () => collector.alerts.active(),
    });
    try {
      await waitFor('the MQTT sink to connect', () =>
        collector.fanout.status().some((s) => s.name === 'mqtt' && s.state === 'ok'),
      );
      await collector.sweepNow();
      assert.deepEqual((await app.inject('/v1/alerts')).json().alerts, [], 'a mining rig raises nothing');

      await rig.setFault('refuse');
      await collector.sweepNow();
      const listed = (await app.inject('/v1/alerts')).json().alerts as Array<{ id: string; kind: string }>;
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.kind, 'rig_offline');
      await waitFor('the raised event on MQTT', () => got.some((e) => e.type === 'raised'));
      const raised = got.find((e) => e.type === 'raised');
      assert.equal(raised?.alert.id, listed[0]?.id, 'same id on MQTT as in the API');
      assert.equal(raised?.alert.kind, 'rig_offline');

      await rig.setFault('none');
      await collector.sweepNow();
      assert.deepEqual((await app.inject('/v1/alerts')).json().alerts, [], 'cleared in the API');
      await waitFor('the cleared event on MQTT', () => got.some((e) => e.type === 'cleared'));
      assert.equal(got.find((e) => e.type === 'cleared')?.alert.id, listed[0]?.id);
      assert.deepEqual(
        got.map((e) => e.type),
        ['raised', 'cleared'],
        'each event once',
      );
    } finally {
      await app.close();
      await collector.stop();
      await rig.close();
      await sub.endAsync();
    }
  });
});

// One alert engine feeds both the API and MQTT: a real collector polls a real emulated rig over loopback and
// writes to the shared Mosquitto on 127.0.0.1:1883 (unique topic prefix). The rig goes dark, the collector
// restarts, the rig comes back: /v1/alerts, the MQTT event stream and the retained active list must agree at
// every step, with the same alert id.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { buildApp } from '../api/app.js';
import { validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { silentLogger } from '../lib/log.js';
import { startEmulatedRig } from '../protocols/emulator/server.js';
import { driverFor } from '../protocols/registry.js';
import type { Alert, AlertEvent } from './alerts.js';
import { type CollectorRuntime, startCollector, targetsFromConfig } from './runtime.js';

const BROKER = 'mqtt://127.0.0.1:1883';
const PREFIX = `rigtel-alerts-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const SITE = 'alert-site';

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(config: Config) {
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
  const listed = async () => (await app.inject('/v1/alerts')).json().alerts as Alert[];
  const stop = async () => {
    await app.close();
    await collector.stop();
  };
  return { collector, listed, stop };
}

const mqttUp = (c: CollectorRuntime) => c.fanout.status().some((s) => s.name === 'mqtt' && s.state === 'ok');

describe('one alert engine for the API and MQTT', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('raise, restart and clear: /v1/alerts, MQTT events and the retained active list agree, with one id', async () => {
    const rig = await startEmulatedRig({ personality: 'antminer-s19pro', host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-alerts-mqtt-'));
    dirs.push(dir);
    const config = validateConfig({
      site: { name: SITE },
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
      sinks: {
        mqtt: {
          enabled: true,
          url: BROKER,
          topic_prefix: PREFIX,
          client_id: `${PREFIX}-collector`,
          retain_availability: false,
        },
      },
      api: { enabled: false },
    });
    const events: AlertEvent[] = [];
    let active: Alert[] | null = null;
    const sub = mqtt.connect(BROKER, { clientId: `${PREFIX}-sub` });
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => resolve());
      sub.once('error', reject);
    });
    sub.on('message', (topic, payload) => {
      if (topic.endsWith('/alerts/active'))
        active = payload.length ? (JSON.parse(payload.toString()) as Alert[]) : null;
      else events.push(JSON.parse(payload.toString()) as AlertEvent);
    });
    await sub.subscribeAsync([`${PREFIX}/${SITE}/alerts`, `${PREFIX}/${SITE}/alerts/active`], { qos: 1 });
    const activeIds = () => (active as Alert[] | null)?.map((a) => a.id) ?? null;

    let run = await start(config);
    try {
      await waitFor('the MQTT sink to connect', () => mqttUp(run.collector));
      await run.collector.sweepNow();
      assert.deepEqual(await run.listed(), [], 'a mining rig raises nothing');
      await waitFor('the retained active list (empty)', () => activeIds()?.length === 0);

      // The rig goes dark: one alert, the same in the API, the event stream and the retained list.
      await rig.setFault('refuse');
      await run.collector.sweepNow();
      const listed = await run.listed();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.kind, 'rig_offline');
      const id = listed[0]!.id;
      await waitFor('the raised event on MQTT', () => events.some((e) => e.type === 'raised'));
      assert.equal(events.find((e) => e.type === 'raised')?.alert.id, id, 'same id on MQTT as in the API');
      await waitFor('the retained list to hold it', () => activeIds()?.join() === id);

      // A restart: the engine starts empty, and MQTT's retained list is replaced to match the API's.
      await run.stop();
      active = null;
      run = await start(config);
      assert.deepEqual(await run.listed(), []);
      await waitFor('the retained list replaced after the restart', () => activeIds()?.length === 0);
      await run.collector.sweepNow();
      assert.deepEqual(
        (await run.listed()).map((a) => a.id),
        [id],
      );
      await waitFor(
        'raised again after the restart',
        () => events.filter((e) => e.type === 'raised').length === 2,
      );
      await waitFor('the retained list after the restart', () => activeIds()?.join() === id);

      // The rig is back: cleared everywhere.
      await rig.setFault('none');
      await run.collector.sweepNow();
      assert.deepEqual(await run.listed(), [], 'cleared in the API');
      await waitFor('the cleared event on MQTT', () => events.some((e) => e.type === 'cleared'));
      assert.equal(events.find((e) => e.type === 'cleared')?.alert.id, id);
      await waitFor('the retained list emptied', () => activeIds()?.length === 0);
      assert.deepEqual(
        events.map((e) => e.type),
        ['raised', 'raised', 'cleared'],
        'each event once',
      );
    } finally {
      await run.stop();
      await rig.close();
      // Leave nothing retained on the shared broker.
      await sub.publishAsync(`${PREFIX}/${SITE}/alerts/active`, '', { qos: 1, retain: true });
      await sub.publishAsync(`${PREFIX}/${SITE}/collector/availability`, '', { qos: 1, retain: true });
      await sub.endAsync();
    }
  });
});

/**
 * Names everywhere: a rig configured as `c1-r01-s19pro` in row A, rack r01 is written to a real InfluxDB with
 * `name`, `row`, `rack` and `site` tags under the configured measurement prefix, and published to the shared
 * mosquitto under its name with a Home Assistant device that carries manufacturer, model, firmware, MAC and a
 * suggested area.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { validateConfig } from '../../config/load.js';
import { type Influxd, startInfluxd } from '../../testing/influxd.js';
import { makeSample } from '../../testing/sample-factory.js';
import { rigNamesFromConfig } from '../rig-names.js';
import { InfluxSink } from './influx.js';
import { MqttSink } from './mqtt.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const MAC = 'AA:BB:CC:00:00:01';
const RUN = `rigtel-names-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const config = validateConfig({
  site: { name: 'tx-1' },
  rigs: [
    {
      name: 'c1-r01-s19pro',
      address: '10.0.0.11',
      location: { site: 'hall-2', row: 'A', rack: 'r01', slot: 4 },
    },
  ],
});
const names = rigNamesFromConfig(config);
const sample = () => {
  const s = makeSample(MAC.toLowerCase(), T0, { address: '10.0.0.11:4028' }, 'tx-1');
  return { ...s, identity: { ...s.identity, mac: MAC, serial: 'SN-123' } };
};

describe('configured names in InfluxDB', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd();
  });
  after(async () => {
    await influxd?.stop();
  });

  test('every measurement carries name, row, rack and the location site, under the prefix', async () => {
    const db = 'rt_names';
    const sink = new InfluxSink(
      validateConfig({
        sinks: {
          influx: { url: influxd.url, database: db, flush_interval_ms: 0, measurement_prefix: 'rigtel_' },
        },
      }).sinks.influx!,
      { names },
    );
    await sink.open();
    await sink.write([{ seq: 1, sample: sample() }]);
    await sink.close();
    const query = async (q: string) => {
      const res = await fetch(`${influxd.url}/query?db=${db}&q=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        results: Array<{ series?: Array<{ columns: string[]; values: unknown[][] }> }>;
      };
      return body.results[0]!.series ?? [];
    };
    const measurements = (await query('SHOW MEASUREMENTS'))[0]!.values.flat().sort();
    assert.deepEqual(measurements, [
      'rigtel_board',
      'rigtel_fan',
      'rigtel_poll',
      'rigtel_pool',
      'rigtel_rig',
    ]);
    for (const m of measurements) {
      const rows = await query(`SELECT * FROM "${m}" WHERE "name" = 'c1-r01-s19pro' LIMIT 1`);
      assert.equal(rows.length, 1, `${m} has the named rig`);
      const row = Object.fromEntries(rows[0]!.columns.map((c, i) => [c, rows[0]!.values[0]![i]]));
      assert.equal(row.row, 'A', m);
      assert.equal(row.rack, 'r01', m);
      assert.equal(row.site, 'hall-2', m);
      assert.equal(row.rig, MAC.toLowerCase(), m);
    }
  });
});

describe('configured names over MQTT and in Home Assistant discovery', () => {
  test('topics use the name; the HA device has make, model, firmware, MAC and a suggested area', async () => {
    const prefix = `${RUN}/p`;
    const haPrefix = `${RUN}/ha`;
    const got: Array<{ topic: string; payload: string }> = [];
    const sub = mqtt.connect('mqtt://127.0.0.1:1883', { clientId: `${RUN}-sub` });
    sub.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => resolve());
      sub.once('error', reject);
    });
    await sub.subscribeAsync([`${RUN}/#`], { qos: 1 });
    const cfg = validateConfig({
      sinks: {
        mqtt: {
          url: 'mqtt://127.0.0.1:1883',
          client_id: `${RUN}-pub`,
          topic_prefix: prefix,
          home_assistant: { enabled: true, prefix: haPrefix },
        },
      },
    }).sinks.mqtt!;
    const sink = new MqttSink(cfg, { site: 'tx-1', names });
    const retained = new Set<string>();
    try {
      await sink.open();
      await sink.write([{ seq: 1, sample: sample() }]);
      const until = Date.now() + 10_000;
      while (
        !got.some((g) => g.topic.startsWith(`${haPrefix}/`)) ||
        !got.some((g) => g.topic.endsWith('/state'))
      ) {
        if (Date.now() > until) throw new Error(`no discovery/state: ${got.map((g) => g.topic).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const state = got.find((g) => g.topic === `${prefix}/tx-1/c1-r01-s19pro/state`);
      assert.ok(state, `state under the name: ${got.map((g) => g.topic).join(', ')}`);
      const body = JSON.parse(state.payload);
      assert.equal(body.name, 'c1-r01-s19pro');
      assert.deepEqual(body.location, { site: 'hall-2', row: 'A', rack: 'r01', slot: 4 });
      assert.equal(body.mac, MAC);
      const configs = got.filter((g) => g.topic.startsWith(`${haPrefix}/sensor/`));
      assert.ok(configs.length > 0);
      for (const c of configs) {
        retained.add(c.topic);
        const d = JSON.parse(c.payload);
        assert.equal(d.state_topic, `${prefix}/tx-1/c1-r01-s19pro/state`);
        assert.equal(d.device.name, 'c1-r01-s19pro');
        assert.equal(d.device.manufacturer, 'Bitmain');
        assert.equal(d.device.model, 'Antminer S19 Pro');
        assert.equal(d.device.sw_version, 'Antminer S19 Pro 2021');
        assert.equal(d.device.serial_number, 'SN-123');
        assert.deepEqual(d.device.connections, [['mac', MAC.toLowerCase()]]);
        assert.equal(d.device.suggested_area, 'hall-2 row A rack r01');
      }
      for (const g of got) if (g.topic.endsWith('/availability')) retained.add(g.topic);
    } finally {
      await sink.close();
      retained.add(`${prefix}/tx-1/collector/availability`);
      for (const t of retained) await sub.publishAsync(t, '', { qos: 1, retain: true });
      await sub.endAsync();
    }
  });
});

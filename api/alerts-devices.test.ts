// /v1/alerts over the real alert engine, and /v1/power/devices over the real SNMP poller reading an emulated PDU
// (one device with the right community, one with a wrong one).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AlertEngine } from '../collector/alerts.js';
import { startSnmpPoller } from '../collector/snmp-poller.js';
import type { FleetView, HealthView, HistoryStore, RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { emptyBoard, emptyReading, type Sample } from '../protocols/sample.js';
import { type EmulatedPdu, startEmulatedPdu } from '../protocols/snmp/emulator.js';
import { buildApp } from './app.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const WRONG_COMMUNITY = 'not-the-community-4711';

function hotSample(rigId: string, atMs: number, chipC: number): Sample {
  const r = emptyReading('antminer');
  return {
    ...r,
    identity: { ...r.identity, make: 'Bitmain', model: 'Antminer S19 Pro', mac: rigId },
    state: 'mining',
    hashrate_hs: 110e12,
    hashrate_nominal_hs: 110e12,
    temp_chip_max_c: chipC,
    // A healthy S19 Pro otherwise: its 3 boards and 4 fans, so only the temperature rule fires.
    boards: [0, 1, 2].map((i) => ({ ...emptyBoard(i), hashrate_hs: 36.7e12, temp_chip_c: chipC })),
    fans: [0, 1, 2, 3].map((index) => ({ index, rpm: 5400 })),
    v: 1,
    rig_id: rigId,
    site: 'tx-1',
    address: '10.0.0.7:4028',
    at_ms: atMs,
    power_miner_w: null,
    energy_wh: null,
    poll: { ok: true, duration_ms: 50, error_code: null, error_message: null },
  };
}

const rig: RigStatus = {
  rig_id: 'aa:bb:cc:00:00:07',
  name: 'r07',
  address: '10.0.0.7:4028',
  state: 'mining',
  current: null,
  last_seen_ms: T0,
  last_poll_ms: T0,
  last_error: null,
  consecutive_failures: 0,
  next_poll_ms: null,
};
const fleet: FleetView = {
  list: () => [rig],
  get: (id) => ([rig.rig_id, rig.name, rig.address].includes(id) ? rig : undefined),
};
const history: HistoryStore = { history: () => [], rigIds: () => [] };
const health: HealthView = {
  started_ms: T0,
  sinks: () => [],
  polling: () => ({ rigs: 1, up: 1, last_sweep_ms: T0, last_sweep_duration_ms: 10 }),
};

describe('GET /v1/alerts', () => {
  test('lists the raised alert, filters by rig name and severity, and rejects a bad severity', async () => {
    const config = validateConfig({ site: { name: 'tx-1' }, alerts: { min_duration_s: 60 } });
    const engine = new AlertEngine(config.alerts, { now: () => T0 });
    // Hot for 2 minutes of samples: longer than min_duration_s, so the alert is raised.
    for (let s = 0; s <= 120; s += 30) engine.observe(hotSample(rig.rig_id, T0 + s * 1000, 110));
    const app = buildApp({ fleet, history, health, config, alerts: () => engine.active(), now: () => T0 });
    try {
      const all = (await app.inject('/v1/alerts')).json();
      assert.equal(all.available, true);
      assert.equal(all.count, 1);
      assert.equal(all.alerts[0].kind, 'temperature_high');
      assert.equal(all.alerts[0].rig_id, rig.rig_id);
      assert.equal(all.alerts[0].value, 110);

      assert.equal((await app.inject('/v1/alerts?rig=r07')).json().count, 1);
      assert.equal((await app.inject('/v1/alerts?rig=other')).json().count, 0);
      assert.equal((await app.inject(`/v1/alerts?severity=${all.alerts[0].severity}`)).json().count, 1);

      const bad = await app.inject('/v1/alerts?severity=loud');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.field, 'severity');
    } finally {
      await app.close();
    }
  });

  test('says so when no alert engine runs in this process', async () => {
    const app = buildApp({ fleet, history, health, config: validateConfig({}) });
    try {
      assert.deepEqual((await app.inject('/v1/alerts')).json(), { available: false, alerts: [] });
    } finally {
      await app.close();
    }
  });
});

describe('GET /v1/power/devices', () => {
  let pdu: EmulatedPdu;
  before(async () => {
    pdu = await startEmulatedPdu({ host: '127.0.0.1', outlets: 4, community: 'public' });
  });
  after(async () => {
    await pdu.close();
  });

  test('shows each device with the named error of its last poll, never its community', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'pdu-good',
            address: `127.0.0.1:${pdu.port}`,
            community: 'public',
            timeout_ms: 500,
            retries: 0,
          },
          {
            name: 'pdu-wrong-community',
            address: `127.0.0.1:${pdu.port}`,
            community: WRONG_COMMUNITY,
            timeout_ms: 500,
            retries: 0,
          },
        ],
      },
    });
    const poller = startSnmpPoller(config);
    try {
      await poller.pollNow();
      const app = buildApp({ fleet, history, health, config, powerDevices: () => poller.status() });
      try {
        const res = await app.inject('/v1/power/devices');
        assert.equal(res.statusCode, 200);
        assert.ok(!res.body.includes(WRONG_COMMUNITY), 'the community string is a secret');
        const body = res.json();
        assert.equal(body.configured, 2);
        assert.equal(body.ok, 1);
        assert.equal(body.failing, 1);
        const byName = Object.fromEntries(body.devices.map((d: { name: string }) => [d.name, d]));
        assert.equal(byName['pdu-good'].state, 'ok');
        assert.equal(byName['pdu-wrong-community'].state, 'error');
        assert.equal(byName['pdu-wrong-community'].error_code, 'RT_ERR_SNMP_NO_RESPONSE');
        assert.match(byName['pdu-wrong-community'].error_message, /community/);
      } finally {
        await app.close();
      }
    } finally {
      await poller.stop();
    }
  });
});

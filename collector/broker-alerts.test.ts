import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { makeSample } from '../testing/sample-factory.js';
import { startBrokerAlerts } from './broker-alerts.js';
import { BrokerFleet } from './broker-fleet.js';
import { statePayload } from './sinks/mqtt.js';

const T0 = 1_700_000_000_000;

describe('alerts over broker states', () => {
  test('hot and slow rigs raise from state messages; a rig whose collector went away raises offline, then clears', () => {
    let now = T0;
    const fleet = new BrokerFleet([], { staleAfterMs: 3000, offlineAfterMs: 10_000, now: () => now });
    const config = validateConfig({ alerts: { min_duration_s: 5, clear_duration_s: 2 } });
    const alerts = startBrokerAlerts(fleet, config, silentLogger);
    const send = (id: string, address: string, collector: string, over: Parameters<typeof makeSample>[2]) =>
      fleet.state(
        `p/site/${id}/state`,
        'site',
        JSON.stringify(statePayload({ ...makeSample(id, now, over, 'site'), address }, undefined, collector)),
      );
    const active = () =>
      alerts.engine
        .active()
        .map((a) => `${a.rig_id} ${a.kind} ${a.severity}`)
        .sort();
    const round = () => {
      send('hot', '10.0.0.1:4028', '0', { temp_chip_max_c: 101 });
      send('slow', '10.0.0.2:4028', '0', { hashrate_hs: 40e12 });
      send('fine', '10.0.0.3:4028', '0', {});
    };
    // The state message carries no per-board readings: a full-support rig must not look board-less.
    for (; now <= T0 + 6000; now += 1000) {
      round();
      send('other', '10.0.0.4:4028', '1', {});
    }
    assert.deepEqual(active(), ['hot temperature_high critical', 'slow hashrate_low warning']);

    // Collector 1 goes away: its rig is marked offline past the offline bound (10 s after its last state), and
    // rig_offline is raised once the marks span min_duration_s (they are dated 3 s back: the stale bound).
    fleet.collector('site', '1', 'offline');
    for (; now <= T0 + 17_000; now += 1000) {
      round();
      fleet.tick();
    }
    assert.equal(fleet.get('other')?.state, 'offline');
    assert.ok(!active().some((a) => a.startsWith('other')), 'not on the mark alone');
    for (; now <= T0 + 20_000; now += 1000) {
      round();
      fleet.tick();
    }
    const off = alerts.engine.active().find((a) => a.rig_id === 'other')!;
    assert.equal(off.kind, 'rig_offline');
    assert.equal(off.severity, 'critical');
    assert.match(off.message, /RT_ERR_BROKER_COLLECTOR_GONE/);
    assert.equal(off.since_ms, T0 + 6001, 'offline since just after its last state');

    // It comes back: its first state (polled a moment ago) is taken, and the alert clears after clear_duration_s.
    fleet.collector('site', '1', 'online');
    for (const end = now + 4000; now <= end; now += 1000) {
      round();
      send('other', '10.0.0.4:4028', '1', {});
    }
    assert.deepEqual(active(), ['hot temperature_high critical', 'slow hashrate_low warning']);
    alerts.stop();
  });

  test("a rig this process's config does not name is named as its collector's state message names it", () => {
    let now = T0;
    const fleet = new BrokerFleet([], { staleAfterMs: 3000, offlineAfterMs: 10_000, now: () => now });
    const config = validateConfig({ alerts: { min_duration_s: 5, clear_duration_s: 2 } });
    const alerts = startBrokerAlerts(fleet, config, silentLogger);
    const place = { site: 'dc1', row: 'B', rack: '2', slot: 11 };
    for (; now <= T0 + 6000; now += 1000)
      fleet.state(
        'p/site/named/state',
        'site',
        JSON.stringify(
          statePayload(
            { ...makeSample('named', now, { temp_chip_max_c: 102 }, 'site'), address: '10.0.0.9:4028' },
            { name: 'B2-11', location: place },
            '0',
          ),
        ),
      );
    const [hot] = alerts.engine.active();
    assert.equal(hot?.kind, 'temperature_high');
    assert.equal(hot?.name, 'B2-11');
    assert.deepEqual(hot?.location, place);
    assert.match(hot?.message ?? '', /B2-11/);
    alerts.stop();
  });
});

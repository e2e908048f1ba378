import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../config/load.js';
import { makeSample } from '../testing/sample-factory.js';
import { BrokerFleet, sampleFromState } from './broker-fleet.js';
import { targetsFromConfig } from './runtime.js';
import { statePayload } from './sinks/mqtt.js';

const T0 = 1_700_000_000_000;

describe('broker fleet', () => {
  test('a state message round-trips into the figures the API reads', () => {
    const s = makeSample('rig-a', T0, {}, 'site');
    const back = sampleFromState('p/site/rig-a/state', JSON.stringify(statePayload(s, undefined, '2')));
    assert.equal(back.rig_id, 'rig-a');
    assert.equal(back.address, s.address);
    assert.equal(back.at_ms, T0);
    for (const k of [
      'hashrate_hs',
      'hashrate_nominal_hs',
      'power_w',
      'power_source',
      'temp_chip_max_c',
    ] as const)
      assert.equal(back[k], s[k], k);
    assert.equal(back.identity.model, s.identity.model);
    assert.equal(back.poll.ok, s.poll.ok);
  });

  test('a rig this config does not name takes the name and place its collector gave; a configured name wins', () => {
    const place = { site: 'dc1', row: 'A', rack: '07', slot: 3 };
    const named = { ...makeSample('rig-n', T0, {}, 'site'), address: '10.0.0.7:4028' };
    const listed = { ...makeSample('rig-c', T0, {}, 'site'), address: '10.0.0.8:4028' };
    const [target] = targetsFromConfig(
      validateConfig({ rigs: [{ address: '10.0.0.8:4028', name: 'ours' }] }),
    );
    const fleet = new BrokerFleet([target!], { staleAfterMs: 3000, offlineAfterMs: 10_000, now: () => T0 });
    const send = (s: typeof named, name: string | null, at = T0) =>
      fleet.state(
        `p/site/${s.rig_id}/state`,
        'site',
        JSON.stringify(statePayload({ ...s, at_ms: at }, { name, location: name ? place : null }, '0')),
      );
    send(named, 'A07-3');
    send(listed, 'theirs');
    assert.equal(fleet.get('rig-n')?.name, 'A07-3');
    assert.equal(fleet.get('A07-3')?.rig_id, 'rig-n', 'found by the name its collector gave');
    assert.deepEqual(fleet.placeOf('10.0.0.7:4028'), { name: 'A07-3', location: place });
    assert.equal(fleet.get('rig-c')?.name, 'ours', "this process's config wins");
    // Renamed by its collector: the new name is found, the old one no longer.
    send(named, 'A07-4', T0 + 1000);
    assert.equal(fleet.get('A07-4')?.rig_id, 'rig-n');
    assert.equal(fleet.get('A07-3'), undefined);
    // A malformed location is left out; the name stays.
    fleet.state(
      'p/site/rig-n/state',
      'site',
      JSON.stringify({
        ...statePayload({ ...named, at_ms: T0 + 2000 }),
        name: 'A07-4',
        location: { row: 1 },
      }),
    );
    assert.deepEqual(fleet.placeOf('10.0.0.7:4028'), { name: 'A07-4', location: null });
  });

  test('a message that is not rigtel state is a named error', () => {
    assert.throws(() => sampleFromState('t', 'not json'), { code: 'RT_ERR_BROKER_BAD_STATE' });
    assert.throws(() => sampleFromState('t', '{"v":1}'), { code: 'RT_ERR_BROKER_BAD_STATE' });
  });

  test('stale when its collector goes offline or falls silent, then offline; fresh state clears both', () => {
    let now = T0;
    const fleet = new BrokerFleet([], { staleAfterMs: 3000, offlineAfterMs: 10_000, now: () => now });
    const a = makeSample('rig-a', T0, {}, 'site');
    const b = { ...makeSample('rig-b', T0, {}, 'site'), address: '127.0.0.2:4028' };
    fleet.state('p/site/rig-a/state', 'site', JSON.stringify(statePayload(a, undefined, '0')));
    fleet.state('p/site/rig-b/state', 'site', JSON.stringify(statePayload(b, undefined, '1')));
    assert.deepEqual(
      fleet.list().map((r) => [r.rig_id, r.stale]),
      [
        ['rig-a', false],
        ['rig-b', false],
      ],
    );
    const v = fleet.version();
    fleet.collector('site', '1', 'offline');
    assert.ok(fleet.version() > v);
    assert.equal(fleet.get('rig-b')?.stale, true);
    assert.equal(fleet.get('rig-a')?.stale, false);
    assert.equal(fleet.upCount(), 1);

    now = T0 + 2000;
    fleet.state(
      'p/site/rig-a/state',
      'site',
      JSON.stringify(statePayload({ ...a, at_ms: now }, undefined, '0')),
    );
    now = T0 + 10_001;
    fleet.tick();
    const gone = fleet.get('rig-b')!;
    assert.equal(gone.state, 'offline');
    assert.equal(gone.current, null);
    assert.equal(gone.last_error?.code, 'RT_ERR_BROKER_COLLECTOR_GONE');
    // rig-a: 8 s without state is past the stale bound but not the offline one.
    assert.equal(fleet.get('rig-a')?.stale, true);
    assert.notEqual(fleet.get('rig-a')?.state, 'offline');

    // The shard comes back: fresh state makes rig-b live again.
    fleet.collector('site', '1', 'online');
    fleet.state(
      'p/site/rig-b/state',
      'site',
      JSON.stringify(statePayload({ ...b, at_ms: now + 1 }, undefined, '1')),
    );
    assert.equal(fleet.get('rig-b')?.stale, false);
    assert.notEqual(fleet.get('rig-b')?.current, null);
    // An older (replayed) state never overwrites a newer one.
    fleet.state(
      'p/site/rig-b/state',
      'site',
      JSON.stringify(statePayload({ ...b, at_ms: T0 }, undefined, '1')),
    );
    assert.equal(fleet.get('rig-b')?.last_poll_ms, now + 1);
  });
});

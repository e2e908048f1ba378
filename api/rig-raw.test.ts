// The raw reply a partial reading keeps is held deflated by the live fleet (collector/live-memory.ts); the API
// still serves it whole in the rig's detail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fleet } from '../collector/fleet.js';
import { validateConfig } from '../config/load.js';
import { makeSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const A = '10.0.0.11:4028';

test('GET /v1/rigs/:id serves the raw reply of a partial reading, and null once a reading is full', async () => {
  const config = validateConfig({ site: { name: 'tx-1' }, rigs: [{ name: 'rig-a', address: A }] });
  const fleet = new Fleet([{ name: 'rig-a', address: A, target: {} as never }]);
  const raw = `{"stats":[${Array.from({ length: 60 }, (_, i) => `{"chain":${i},"temp":${60 + (i % 9)}}`).join(',')}],"x":"ünïcode"}`;
  fleet.update(
    structuredClone(
      makeSample('aa:bb:cc:00:00:01', T0, { address: A, support: 'partial', raw, notes: ['no pools'] }),
    ),
  );
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: T0,
      sinks: () => [],
      polling: () => ({ rigs: 1, up: 1, last_sweep_ms: T0, last_sweep_duration_ms: 900 }),
    },
    config,
    now: () => T0 + 1000,
  });
  try {
    const res = await app.inject('/v1/rigs/rig-a');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.current.raw, raw);
    assert.equal(body.current.support, 'partial');
    assert.deepEqual(body.current.notes, ['no pools']);
    fleet.update(makeSample('aa:bb:cc:00:00:01', T0 + 15_000, { address: A }));
    assert.equal((await app.inject('/v1/rigs/rig-a')).json().current.raw, null);
  } finally {
    await app.close();
  }
});

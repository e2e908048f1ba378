// `/v1/rigs/:id` from kept bytes: the same body as built fresh, an ETag and 304, and a new body the moment the
// rig's sample, state or age changes — over the real Fleet and the real app.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Fleet } from '../collector/fleet.js';
import type { RigTarget } from '../collector/poll.js';
import type { RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { Secret } from '../lib/secret.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { buildApp } from './app.js';
import { RigBodies, rigDetailBody, sameStatus } from './rig-body.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
// A secret this process knows: any body quoting it must show it redacted.
const secret = new Secret('pw-rig-body-test-7731');

const targets: RigTarget[] = [0, 1, 2].map((i) => ({
  name: `r${i}`,
  address: `127.0.0.1:${30_000 + i}`,
  target: {
    host: '127.0.0.1',
    port: 30_000 + i,
    family: 'antminer',
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
    maxReplyBytes: 1024,
  },
}));

function sample(i: number, atMs: number, over: Partial<Sample> = {}): Sample {
  return {
    ...emptyReading('antminer'),
    state: 'mining',
    hashrate_hs: 100e12,
    hashrate_nominal_hs: 110e12,
    power_w: 3000,
    power_source: 'miner',
    v: 1,
    rig_id: `r${i}`,
    site: 's',
    address: targets[i]!.address,
    at_ms: atMs,
    power_miner_w: 3000,
    energy_wh: null,
    // A note quoting the secret, as a miner's error text might.
    notes: [`pool url stratum+tcp://worker:${secret.reveal()}@pool.example:3333`],
    poll: { ok: true, duration_ms: 10, error_code: null, error_message: null },
    ...over,
  };
}

const config = validateConfig({
  rigs: targets.map((t, i) => ({
    name: t.name!,
    address: t.address,
    tags: { owner: i === 1 ? secret.reveal() : 'ops' },
    location: { row: 'a', rack: `k${i}`, slot: i },
  })),
});

function setup() {
  const fleet = new Fleet(targets);
  let clock = NOW;
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: NOW,
      sinks: () => [],
      polling: () => ({ rigs: 3, up: fleet.upCount(), last_sweep_ms: NOW, last_sweep_duration_ms: 1 }),
    },
    config,
    now: () => clock,
  });
  return { fleet, app, tick: (ms: number) => (clock += ms) };
}

describe('/v1/rigs/:id from kept bytes', () => {
  test('the kept body is the body built fresh, byte for byte, redacted', () => {
    const fleet = new Fleet(targets);
    fleet.update(sample(1, NOW - 4000));
    const bodies = new RigBodies(config);
    const rig = fleet.get('r1')!;
    for (const now of [NOW, NOW + 1234, NOW + 60_000]) {
      const text = bodies.body(rig, now).body.toString();
      assert.equal(
        text,
        JSON.stringify(rigDetailBody(config, rig, now)).replaceAll(secret.reveal(), '[redacted]'),
      );
      assert.ok(!text.includes(secret.reveal()), 'the secret never leaves');
    }
    // A rig that never answered has no age.
    const never = JSON.parse(bodies.body(fleet.get('r0')!, NOW).body.toString());
    assert.equal(never.age_s, null);
    assert.equal(never.current, null);
  });

  test('ETag and 304; a new sample, a failed poll and the passing of time each give a new body', async () => {
    const { fleet, app, tick } = setup();
    fleet.update(sample(1, NOW - 5000));
    const first = await app.inject('/v1/rigs/r1');
    assert.equal(first.statusCode, 200);
    const etag = first.headers.etag as string;
    assert.match(etag, /^"[^"]+"$/);
    assert.equal(first.headers['cache-control'], 'no-cache');
    assert.equal(first.json().age_s, 5);
    assert.ok(!first.body.includes(secret.reveal()));

    const again = await app.inject({ url: '/v1/rigs/r1', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    // By name, id or address: the same rig, the same tag.
    const byAddress = await app.inject(`/v1/rigs/${encodeURIComponent(targets[1]!.address)}`);
    assert.equal(byAddress.headers.etag, etag);

    // A new sample: the new figures at once, under a new tag.
    fleet.update(sample(1, NOW - 1000, { hashrate_hs: 42e12 }));
    const changed = await app.inject({ url: '/v1/rigs/r1', headers: { 'if-none-match': etag } });
    assert.equal(changed.statusCode, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.equal(changed.json().hashrate_hs, 42e12);
    assert.equal(changed.json().current.hashrate_hs, 42e12);
    assert.equal(changed.json().age_s, 1);

    // Time passes: only the age moves, and the tag with it.
    tick(2500);
    const older = await app.inject({
      url: '/v1/rigs/r1',
      headers: { 'if-none-match': changed.headers.etag as string },
    });
    assert.equal(older.statusCode, 200);
    assert.equal(older.json().age_s, 3.5);
    assert.deepEqual({ ...(older.json() as object), age_s: 1 }, changed.json());

    // A failed poll: offline, no current values, the error shown.
    fleet.update({
      ...sample(1, NOW + 2000),
      state: 'offline',
      hashrate_hs: null,
      poll: { ok: false, duration_ms: 100, error_code: 'RT_ERR_PROTO_TIMEOUT', error_message: 'timed out' },
    });
    const down = (await app.inject('/v1/rigs/r1')).json();
    assert.equal(down.state, 'offline');
    assert.equal(down.current, null);
    assert.equal(down.last_error.code, 'RT_ERR_PROTO_TIMEOUT');
    assert.equal(down.consecutive_failures, 1);
    // Back up.
    fleet.update(sample(1, NOW + 3000, { hashrate_hs: 99e12 }));
    const up = (await app.inject('/v1/rigs/r1')).json();
    assert.equal(up.state, 'mining');
    assert.equal(up.current.hashrate_hs, 99e12);
    assert.equal(up.consecutive_failures, 0);

    // Another rig is its own body.
    fleet.update(sample(2, NOW - 100, { hashrate_hs: 7e12 }));
    assert.equal((await app.inject('/v1/rigs/r2')).json().hashrate_hs, 7e12);
    assert.equal((await app.inject('/v1/rigs/nope')).statusCode, 404);
    assert.equal((await app.inject(`/v1/rigs/${'x'.repeat(257)}`)).statusCode, 400);
    await app.close();
  });

  test('every status field a body shows is compared (a new field must join sameStatus)', () => {
    // Required<>: a field added to RigStatus later fails to compile here until it is listed.
    const base: Required<RigStatus> = {
      rig_id: 'r1',
      name: 'r1',
      address: 'a:1',
      state: 'mining',
      current: sample(1, NOW),
      last_seen_ms: NOW,
      last_poll_ms: NOW,
      last_error: { code: 'C', message: 'm' },
      consecutive_failures: 0,
      next_poll_ms: NOW + 15_000,
      stale: false,
    };
    const other: { [K in keyof RigStatus]-?: RigStatus[K] } = {
      rig_id: 'r2',
      name: null,
      address: 'a:2',
      state: 'offline',
      current: sample(1, NOW),
      last_seen_ms: NOW - 1,
      last_poll_ms: NOW - 1,
      last_error: { code: 'C', message: 'other' },
      consecutive_failures: 1,
      next_poll_ms: null,
      stale: true,
    };
    assert.ok(sameStatus(base, { ...base, last_error: { ...base.last_error! } }));
    for (const key of Object.keys(base) as Array<keyof RigStatus>)
      assert.ok(!sameStatus(base, { ...base, [key]: other[key] }), `a change of ${key} is seen`);
  });

  test('bounded: the oldest rig is let go first, and bodies stay right', () => {
    const fleet = new Fleet(targets);
    for (let i = 0; i < 3; i++) fleet.update(sample(i, NOW - 1000, { hashrate_hs: (i + 1) * 1e12 }));
    const bodies = new RigBodies(config, 2);
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 3; i++) {
        const body = JSON.parse(bodies.body(fleet.get(`r${i}`)!, NOW).body.toString());
        assert.equal(body.hashrate_hs, (i + 1) * 1e12);
        assert.ok(bodies.size <= 2);
      }
  });
});

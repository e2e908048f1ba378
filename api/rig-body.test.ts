// `/v1/rigs/:id` from kept bytes: the same body as built fresh, an ETag and 304, and a new body the moment the
// rig's sample, state or age changes — over the real Fleet and the real app.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Fleet } from '../collector/fleet.js';
import type { RigTarget } from '../collector/poll.js';
import type { RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { Secret } from '../lib/secret.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { buildApp } from './app.js';
import { ByteRing, detailText, RigBodies, rigDetailBody, sameStatus } from './rig-body.js';

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

  test('the pieces around the age are JSON.stringify of the detail object, for any status', () => {
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    const figure = fc.oneof(fc.double(), fc.integer(), fc.constant(-0));
    const status = fc.record({
      i: fc.integer({ min: 0, max: 2 }),
      name: maybe(fc.constantFrom('r0', 'r1', 'r2', 'odd "name" é', 'unconfigured')),
      state: fc.constantFrom('mining', 'offline', 'error', 'sleeping'),
      up: fc.boolean(),
      hashrate: maybe(figure),
      power: maybe(figure),
      source: maybe(fc.constantFrom('pdu', 'miner', 'estimate')),
      family: fc.constantFrom('antminer', 'whatsminer', 'unknown'),
      make: maybe(fc.string({ maxLength: 8 })),
      notes: fc.array(fc.string({ maxLength: 12 }), { maxLength: 2 }),
      seen: maybe(fc.integer({ min: NOW - 1e6, max: NOW + 1e6 })),
      error: maybe(fc.record({ code: fc.string({ maxLength: 6 }), message: fc.string({ maxLength: 20 }) })),
      failures: fc.integer({ min: 0, max: 9 }),
      next: maybe(fc.integer()),
      stale: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(
      fc.property(status, (g) => {
        const current = g.up
          ? sample(g.i, NOW, {
              hashrate_hs: g.hashrate,
              power_w: g.power,
              power_source: g.source,
              temp_chip_max_c: g.hashrate,
              notes: g.notes,
              identity: { ...emptyReading(g.family).identity, make: g.make, model: g.make },
            })
          : null;
        const rig: RigStatus = {
          rig_id: `id-${g.i}`,
          name: g.name,
          address: targets[g.i]!.address,
          state: g.state,
          current,
          last_seen_ms: g.seen,
          last_poll_ms: g.seen,
          last_error: g.error,
          consecutive_failures: g.failures,
          next_poll_ms: g.next,
          ...(g.stale === undefined ? {} : { stale: g.stale }),
        };
        const pieces = detailText(config, rig, NOW);
        const fresh = JSON.stringify(rigDetailBody(config, rig, NOW));
        const age = fresh.indexOf('"age_s":') + '"age_s":'.length;
        assert.equal(pieces.head, fresh.slice(0, age));
        assert.equal(pieces.tail, fresh.slice(fresh.indexOf(',"last_error":', age)));
      }),
      { numRuns: 300 },
    );
    // A status missing a field the body shows: its key is left out, as JSON.stringify leaves it out.
    const partial = { ...fleetRig(), last_error: undefined } as unknown as RigStatus;
    const bodies = new RigBodies(config);
    assert.equal(
      bodies.body(partial, NOW).body.toString(),
      JSON.stringify(rigDetailBody(config, partial, NOW)).replaceAll(secret.reveal(), '[redacted]'),
    );
  });

  test('kept bytes written over in the ring are built again, never served', () => {
    const fleet = new Fleet(targets);
    for (let i = 0; i < 3; i++) fleet.update(sample(i, NOW - 1000, { hashrate_hs: (i + 1) * 1e12 }));
    const fresh = (i: number) =>
      JSON.stringify(rigDetailBody(config, fleet.get(`r${i}`)!, NOW)).replaceAll(
        secret.reveal(),
        '[redacted]',
      );
    const one = Buffer.byteLength(fresh(0));
    // Room for two bodies and a half: the third is written over the first.
    const bodies = new RigBodies(config, 100, Math.floor(one * 2.5));
    const etags: string[] = [];
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 3; i++) {
        const got = bodies.body(fleet.get(`r${i}`)!, NOW);
        assert.equal(got.body.toString(), fresh(i), `rig ${i}, round ${round}`);
        assert.ok(bodies.size <= 2, 'only the bodies whose bytes are still there are kept');
        etags.push(got.etag);
      }
    // Each was built again (a new tag each time), since each was written over before it was asked again.
    assert.equal(new Set(etags).size, etags.length);
    assert.equal(bodies.ringBytes, Math.floor(one * 2.5));

    // A body larger than the whole ring is served as built, and not kept.
    const tiny = new RigBodies(config, 100, 64);
    assert.equal(tiny.body(fleet.get('r1')!, NOW).body.toString(), fresh(1));
    assert.equal(tiny.size, 0);
  });

  test('a rig asked again before its bytes are written over is served from them (same tag)', () => {
    const fleet = new Fleet(targets);
    fleet.update(sample(0, NOW - 1000));
    const bodies = new RigBodies(config);
    const a = bodies.body(fleet.get('r0')!, NOW);
    const b = bodies.body(fleet.get('r0')!, NOW + 20);
    assert.equal(a.etag, b.etag);
    assert.deepEqual(a.body, b.body);
    // A new sample: a new tag and the new figure at once.
    fleet.update(sample(0, NOW, { hashrate_hs: 5e12 }));
    const c = bodies.body(fleet.get('r0')!, NOW + 20);
    assert.notEqual(c.etag, b.etag);
    assert.equal(JSON.parse(c.body.toString()).hashrate_hs, 5e12);
    // Text beyond ASCII before the age (a name) and after it (a note): the age still goes in its place.
    const rig = { ...fleet.get('r0')!, name: 'fåñ-€' };
    rig.current = { ...rig.current!, notes: ['žluťoučký kůň'] };
    for (let k = 0; k < 2; k++)
      assert.equal(
        bodies.body(rig, NOW).body.toString(),
        JSON.stringify(rigDetailBody(config, rig, NOW)).replaceAll(secret.reveal(), '[redacted]'),
      );
  });

  test('bounded over a whole fleet walked: at most `max` rigs and the ring, whatever is asked', () => {
    const many: RigTarget[] = Array.from({ length: 400 }, (_, i) => ({
      ...targets[0]!,
      name: `m${i}`,
      address: `10.1.${i >> 8}.${i & 255}:4028`,
    }));
    const fleet = new Fleet(many);
    for (let i = 0; i < many.length; i++)
      fleet.update({ ...sample(0, NOW - 1000), rig_id: `m${i}`, address: many[i]!.address });
    const bodies = new RigBodies(config, 50, 64 * 1024);
    for (let round = 0; round < 2; round++)
      for (const t of many) {
        const rig = fleet.get(t.name!)!;
        const body = JSON.parse(bodies.body(rig, NOW).body.toString());
        assert.equal(body.name, t.name);
        assert.ok(bodies.size <= 50);
      }
    assert.equal(bodies.ringBytes, 64 * 1024);
  });

  test('the ring: bytes stay until written over, none split across its end', () => {
    const ring = new ByteRing(10);
    const a = ring.put('abcd', 4);
    const b = ring.put('efgh', 4);
    assert.ok(ring.holds(a) && ring.holds(b));
    const out = Buffer.alloc(4);
    ring.copy(b, 1, 3, out, 0);
    assert.equal(out.subarray(0, 3).toString(), 'fgh');
    // 2 bytes left at the end: 'ijkl' goes to the start, over 'abcd'.
    const c = ring.put('ijkl', 4);
    assert.ok(!ring.holds(a), 'written over');
    assert.ok(ring.holds(b) && ring.holds(c));
    ring.copy(c, 0, 4, out, 0);
    assert.equal(out.toString(), 'ijkl');
    assert.equal(ring.put('x'.repeat(11), 11), -1);
    // Text beyond ASCII goes in as UTF-8.
    const d = ring.put('é€', Buffer.byteLength('é€'));
    const utf = Buffer.alloc(5);
    ring.copy(d, 0, 5, utf, 0);
    assert.equal(utf.toString(), 'é€');
  });
});

function fleetRig(): RigStatus {
  const fleet = new Fleet(targets);
  fleet.update(sample(1, NOW - 1000));
  return fleet.get('r1')!;
}

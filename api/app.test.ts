import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { SinkStatus } from '../collector/sinks/sink.js';
import type {
  FleetView,
  HealthView,
  HistoryPoint,
  HistoryQuery,
  HistoryStore,
  RigStatus,
} from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { createLogger } from '../lib/log.js';
import {
  emptyBoard,
  emptyReading,
  type PowerSource,
  type RigState,
  type Sample,
} from '../protocols/sample.js';
import { buildApp } from './app.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const SECRET = 'hunter2-never-shown';

function sample(
  rigId: string,
  address: string,
  o: {
    state?: RigState;
    ths?: number | null;
    nominal?: number | null;
    w?: number | null;
    src?: PowerSource | null;
    chip?: number | null;
    family?: Sample['identity']['family'];
  },
): Sample {
  const r = emptyReading(o.family ?? 'antminer');
  return {
    ...r,
    identity: { ...r.identity, make: 'Bitmain', model: 'Antminer S19 Pro', mac: rigId },
    state: o.state ?? 'mining',
    hashrate_hs: o.ths == null ? null : o.ths * 1e12,
    hashrate_nominal_hs: o.nominal == null ? null : o.nominal * 1e12,
    power_w: o.w ?? null,
    power_source: o.w == null ? null : (o.src ?? 'miner'),
    temp_chip_max_c: o.chip ?? null,
    boards: [emptyBoard(0)],
    v: 1,
    rig_id: rigId,
    site: 'tx-1',
    address,
    at_ms: NOW - 10_000,
    power_miner_w: o.w ?? null,
    energy_wh: null,
    poll: { ok: true, duration_ms: 120, error_code: null, error_message: null },
  };
}

function status(name: string | null, address: string, s: Sample | null, state?: RigState): RigStatus {
  return {
    rig_id: s?.rig_id ?? name ?? address,
    name,
    address,
    state: state ?? s?.state ?? 'offline',
    current: s,
    last_seen_ms: s ? s.at_ms : NOW - 3600_000,
    last_poll_ms: NOW - 10_000,
    last_error: s ? null : { code: 'RT_ERR_PROTO_CONNECT_TIMEOUT', message: '10.0.0.14:4028: no answer' },
    consecutive_failures: s ? 0 : 7,
    next_poll_ms: NOW + 20_000,
  };
}

const rigs: RigStatus[] = [
  status(
    'a1',
    '10.0.0.11:4028',
    sample('aa:00:00:00:00:01', '10.0.0.11:4028', { ths: 100, nominal: 110, w: 3250, src: 'pdu', chip: 71 }),
  ),
  status(
    'a2',
    '10.0.0.12:4028',
    sample('aa:00:00:00:00:02', '10.0.0.12:4028', { ths: 80, nominal: 110, w: 3000, src: 'miner', chip: 88 }),
  ),
  // Known hashrate, unknown power: it must stay out of efficiency.
  status(
    'a3',
    '10.0.0.13:4028',
    sample('aa:00:00:00:00:03', '10.0.0.13:4028', { ths: 50, nominal: null, chip: 65, family: 'whatsminer' }),
  ),
  status('a4', '10.0.0.14:4028', null),
  status(
    'a5',
    '10.0.0.15:4028',
    sample('aa:00:00:00:00:05', '10.0.0.15:4028', {
      state: 'sleeping',
      ths: 0,
      nominal: 110,
      w: 15,
      src: 'estimate',
    }),
  ),
];

class TestFleet implements FleetView {
  constructor(private readonly items: RigStatus[]) {}
  list() {
    return this.items;
  }
  get(id: string) {
    return this.items.find((r) => r.rig_id === id || r.name === id || r.address === id);
  }
}

class TestHistory implements HistoryStore {
  queries: HistoryQuery[] = [];
  history(q: HistoryQuery): HistoryPoint[] {
    this.queries.push(q);
    const out: HistoryPoint[] = [];
    for (let t = q.fromMs; t < q.toMs; t += q.stepS * 1000) {
      out.push({
        t_ms: t,
        hashrate_hs: 100e12,
        power_w: 3250,
        power_source: 'pdu',
        temp_chip_max_c: 70,
        energy_wh: 270,
        polls: 10,
        polls_ok: 10,
        mining_s: q.stepS,
      });
    }
    return out;
  }
  rigIds() {
    return ['aa:00:00:00:00:01', 'retired-rig'];
  }
}

function health(sinks: SinkStatus[], lastSweep: number | null = NOW - 5000): HealthView {
  return {
    started_ms: NOW - 600_000,
    sinks: () => sinks,
    polling: () => ({ rigs: 5, up: 4, last_sweep_ms: lastSweep, last_sweep_duration_ms: 800 }),
  };
}

const okSink: SinkStatus = {
  name: 'store',
  state: 'ok',
  lag_samples: 0,
  acked_seq: 99,
  last_ok_ms: NOW,
  last_error: null,
};

const config = validateConfig({
  site: { name: 'tx-1' },
  rigs: [
    { name: 'a1', address: '10.0.0.11:4028', password: SECRET, tags: { rack: 'r1' } },
    { address: '10.0.0.14', family: 'avalon' },
  ],
});

let logged = '';
const logDest = new Writable({
  write(chunk, _enc, cb) {
    logged += chunk;
    cb();
  },
});

let app: FastifyInstance;
const history = new TestHistory();

before(async () => {
  app = buildApp({
    fleet: new TestFleet(rigs),
    history,
    health: health([okSink]),
    config,
    log: createLogger('info', { destination: logDest }),
    now: () => NOW,
  });
  await app.ready();
});
after(() => app.close());

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json(), text: res.body };
}

describe('fleet', () => {
  test('totals, power by source, efficiency only over rigs with known power', async () => {
    const { status: code, body } = await get('/v1/fleet');
    assert.equal(code, 200);
    assert.equal(body.rigs, 5);
    assert.deepEqual(body.states, { mining: 3, ramping: 0, sleeping: 1, curtailed: 0, offline: 1, error: 0 });
    assert.equal(body.hashrate_ths, 230);
    assert.equal(body.hashrate_hs, 230e12);
    assert.equal(body.power_w, 6265);
    assert.deepEqual(body.power_sources, { pdu: 1, miner: 1, estimate: 1, none: 1 });
    assert.equal(body.power_source_weakest, 'estimate');
    // (3250 + 3000) W over (100 + 80) TH/s; a3 (no power) and a5 (0 H/s) excluded.
    assert.equal(body.efficiency_rigs, 2);
    assert.equal(body.efficiency_jth, Math.round((6250 / 180) * 100) / 100);
    assert.equal(body.hottest[0].rig_id, 'aa:00:00:00:00:02');
    assert.deepEqual(
      body.below_nameplate.rigs.map((r: { rig_id: string }) => r.rig_id),
      ['aa:00:00:00:00:05', 'aa:00:00:00:00:02'],
    );
    assert.equal(body.below_nameplate.nameplate_unknown, 1);
  });

  test('an empty fleet has null totals, not zeros', async () => {
    const empty = buildApp({
      fleet: new TestFleet([]),
      history,
      health: health([okSink]),
      config,
      now: () => NOW,
    });
    const body = (await empty.inject('/v1/fleet')).json();
    assert.equal(body.rigs, 0);
    assert.equal(body.hashrate_hs, null);
    assert.equal(body.power_w, null);
    assert.equal(body.efficiency_jth, null);
    assert.equal(body.power_source_weakest, null);
    await empty.close();
  });

  test('bad ratio is a 400 naming the field', async () => {
    const { status: code, body } = await get('/v1/fleet?below=2');
    assert.equal(code, 400);
    assert.equal(body.error.code, 'RT_ERR_API_BAD_REQUEST');
    assert.equal(body.error.field, 'below');
  });
});

describe('rigs', () => {
  test('list sorted by name with summaries; missing readings are null', async () => {
    const { status: code, body } = await get('/v1/rigs');
    assert.equal(code, 200);
    assert.equal(body.total, 5);
    assert.deepEqual(
      body.rigs.map((r: { name: string }) => r.name),
      ['a1', 'a2', 'a3', 'a4', 'a5'],
    );
    const a4 = body.rigs[3];
    assert.equal(a4.state, 'offline');
    assert.equal(a4.hashrate_hs, null);
    assert.equal(a4.power_w, null);
    assert.equal(a4.family, 'avalon', 'offline rig falls back to its configured family');
    assert.equal(body.rigs[2].power_source, null);
  });

  test('filters and sorts', async () => {
    let r = await get('/v1/rigs?state=mining&sort=temp&limit=2');
    assert.equal(r.status, 200);
    assert.equal(r.body.matched, 3);
    assert.deepEqual(
      r.body.rigs.map((x: { name: string }) => x.name),
      ['a2', 'a1'],
    );
    r = await get('/v1/rigs?family=whatsminer');
    assert.deepEqual(
      r.body.rigs.map((x: { name: string }) => x.name),
      ['a3'],
    );
    r = await get('/v1/rigs?sort=hashrate');
    assert.deepEqual(
      r.body.rigs.map((x: { name: string }) => x.name),
      ['a1', 'a2', 'a3', 'a5', 'a4'],
    );
  });

  for (const [url, field] of [
    ['/v1/rigs?state=melting', 'state'],
    ['/v1/rigs?sort=colour', 'sort'],
    ['/v1/rigs?limit=0', 'limit'],
    ['/v1/rigs?limit=abc', 'limit'],
    ['/v1/rigs?limit=1&limit=2', 'limit'],
    ['/v1/rigs?bogus=1', 'bogus'],
  ] as const) {
    test(`400 for ${url}`, async () => {
      const { status: code, body } = await get(url);
      assert.equal(code, 400);
      assert.equal(body.error.code, 'RT_ERR_API_BAD_REQUEST');
      assert.equal(body.error.field, field);
      assert.match(body.error.message, new RegExp(`^${field}: `));
    });
  }

  test('one rig by id, name or address, with its full sample and tags', async () => {
    for (const key of ['aa:00:00:00:00:01', 'a1', encodeURIComponent('10.0.0.11:4028'), '10.0.0.11']) {
      const { status: code, body } = await get(`/v1/rigs/${key}`);
      assert.equal(code, 200, key);
      assert.equal(body.rig_id, 'aa:00:00:00:00:01');
      assert.equal(body.current.hashrate_hs, 100e12);
      assert.equal(body.current.power_source, 'pdu');
      assert.deepEqual(body.tags, { rack: 'r1' });
      assert.equal(body.next_poll_ms, NOW + 20_000);
    }
    const off = await get('/v1/rigs/a4');
    assert.equal(off.body.current, null);
    assert.equal(off.body.last_error.code, 'RT_ERR_PROTO_CONNECT_TIMEOUT');
  });

  test('unknown rig is a 404 with a code', async () => {
    const { status: code, body } = await get('/v1/rigs/nope');
    assert.equal(code, 404);
    assert.equal(body.error.code, 'RT_ERR_API_RIG_NOT_FOUND');
  });
});

describe('history', () => {
  test('ISO and epoch times, step units; summary over buckets', async () => {
    const { status: code, body } = await get(
      '/v1/rigs/a1/history?from=2026-11-25T10:00:00Z&to=' + String(NOW) + '&step=30m',
    );
    assert.equal(code, 200);
    assert.equal(body.rig_id, 'aa:00:00:00:00:01');
    assert.equal(body.step_s, 1800);
    assert.equal(body.points.length, 4);
    assert.equal(body.summary.polls, 40);
    assert.equal(body.summary.energy_wh, 1080);
    assert.deepEqual(history.queries.at(-1), {
      rigId: 'aa:00:00:00:00:01',
      fromMs: Date.parse('2026-11-25T10:00:00Z'),
      toMs: NOW,
      stepS: 1800,
    });
  });

  test('defaults: last 24 h in about 288 buckets', async () => {
    const { body } = await get('/v1/rigs/a1/history');
    assert.equal(body.to_ms, NOW);
    assert.equal(body.from_ms, NOW - 86_400_000);
    assert.equal(body.step_s, 300);
  });

  test('default buckets start on round times', async () => {
    const later = buildApp({
      fleet: new TestFleet(rigs),
      history,
      health: health([okSink]),
      config,
      now: () => NOW + 123_456,
    });
    const body = (await later.inject('/v1/rigs/a1/history')).json();
    assert.equal(body.step_s, 300);
    assert.equal(body.to_ms, NOW + 300_000);
    assert.equal(body.from_ms % 300_000, 0);
    await later.close();
  });

  test('a rig only in history (no longer configured) is served', async () => {
    const { status: code } = await get('/v1/rigs/retired-rig/history?step=1h');
    assert.equal(code, 200);
  });

  for (const [query, field, pattern] of [
    ['from=yesterday', 'from', /^from: expected a time/],
    ['to=2026-13-45T99:00:00Z', 'to', /^to: expected a time/],
    ['from=2026-11-25T12:00:00Z&to=2026-11-25T11:00:00Z', 'from', /must be before to/],
    ['step=30s', 'step', /at least 1m/],
    ['step=5x', 'step', /expected a step/],
    ['from=0&step=1m', 'step', /at most 10000/],
  ] as const) {
    test(`400 for ?${query}`, async () => {
      const { status: code, body } = await get(`/v1/rigs/a1/history?${query}`);
      assert.equal(code, 400);
      assert.equal(body.error.field, field);
      assert.match(body.error.message, pattern);
    });
  }

  test('unknown rig → 404', async () => {
    const { status: code, body } = await get('/v1/rigs/ghost/history');
    assert.equal(code, 404);
    assert.equal(body.error.code, 'RT_ERR_API_RIG_NOT_FOUND');
  });
});

describe('health and status', () => {
  test('healthz is 200 with sinks when polling and sinks are fine', async () => {
    const { status: code, body } = await get('/healthz');
    assert.equal(code, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.sinks[0].name, 'store');
  });

  test('healthz is 503 when a sink is retrying or polling stalled', async () => {
    const retrying: SinkStatus = {
      name: 'influx',
      state: 'retrying',
      lag_samples: 1200,
      acked_seq: 5,
      last_ok_ms: NOW - 60_000,
      last_error: { code: 'RT_ERR_SINK_INFLUX_DOWN', message: 'connection refused', at_ms: NOW - 1000 },
    };
    const degraded = buildApp({
      fleet: new TestFleet(rigs),
      history,
      health: health([okSink, retrying]),
      config,
      now: () => NOW,
    });
    let res = await degraded.inject('/healthz');
    assert.equal(res.statusCode, 503);
    assert.match(
      res.json().problems[0],
      /sink influx is retrying with 1200 samples waiting: RT_ERR_SINK_INFLUX_DOWN/,
    );
    await degraded.close();

    const stalled = buildApp({
      fleet: new TestFleet(rigs),
      history,
      health: health([okSink], NOW - 10 * config.poll.interval_ms),
      config,
      now: () => NOW,
    });
    res = await stalled.inject('/healthz');
    assert.equal(res.statusCode, 503);
    assert.match(res.json().problems[0], /polling stalled/);
    await stalled.close();
  });

  test('journal pressure shows in status, and a journal about to drop is degraded', async () => {
    const pressure = {
      used_bytes: 1900 * 1048576,
      max_bytes: 2048 * 1048576,
      oldest_unacked_seq: 12,
      will_drop: true,
      drop_at_estimate_ms: NOW + 600_000,
      dropped_entries: 0,
      entries: 123_456,
      write_failures: 0,
      write_lost_samples: 0,
      write_error: null,
      disk_free_bytes: 10e9,
      disk_low: false,
      unsynced_appends: 0,
      fsync_error: null,
    };
    const withJournal = buildApp({
      fleet: new TestFleet(rigs),
      history,
      health: { ...health([okSink]), journal: () => pressure },
      config,
      now: () => NOW,
    });
    const status = await withJournal.inject('/v1/status');
    assert.deepEqual(status.json().journal, pressure);
    const h = await withJournal.inject('/healthz');
    assert.equal(h.statusCode, 503);
    assert.match(h.json().problems[0], /journal nearly full \(1900 of 2048 MB\)/);
    await withJournal.close();
  });

  test('status reports collector figures', async () => {
    const { status: code, body } = await get('/v1/status');
    assert.equal(code, 200);
    assert.equal(body.site, 'tx-1');
    assert.equal(body.rigs, 5);
    assert.equal(body.up, 4);
    assert.equal(body.uptime_s, 600);
    assert.equal(body.journal, null);
    assert.equal(body.sinks.length, 1);
  });
});

describe('errors', () => {
  test('unknown route is a JSON 404', async () => {
    const { status: code, body } = await get('/v2/nothing?x=1');
    assert.equal(code, 404);
    assert.deepEqual(body, {
      error: {
        code: 'RT_ERR_API_ROUTE_NOT_FOUND',
        message: 'no endpoint GET /v2/nothing; see GET /v1/status and the README for the list',
      },
    });
  });

  test('hostile URLs get coded 4xx JSON, never a crash', async () => {
    for (const url of [
      '/v1/rigs/%ZZ',
      `/v1/rigs/${'x'.repeat(5000)}`,
      '/v1/rigs?state[]=x',
      '/v1/rigs?__proto__=1',
    ]) {
      const res = await app.inject(url);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`);
      const body = res.json();
      assert.match(body.error.code, /^RT_ERR_API_/, url);
      assert.ok(res.body.length < 600, 'the message does not echo the whole URL');
    }
    const post = await app.inject({
      method: 'POST',
      url: '/v1/fleet',
      payload: '{"a":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(post.json().error.code.startsWith('RT_ERR_API_'), true);
  });

  test('a failing view gives a coded 500 without a stack trace', async () => {
    const broken: FleetView = {
      list() {
        throw new Error(`db exploded at /work/secret/path password=${SECRET}`);
      },
      get() {
        return undefined;
      },
    };
    const failing = buildApp({ fleet: broken, history, health: health([okSink]), config, now: () => NOW });
    const res = await failing.inject('/v1/fleet');
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'RT_ERR_API_INTERNAL');
    assert.doesNotMatch(res.body, /exploded|at |\.ts|hunter2/);
    await failing.close();
  });

  test('no secret in any response or log line', async () => {
    const urls = [
      '/healthz',
      '/v1/status',
      '/v1/fleet',
      '/v1/rigs',
      '/v1/rigs/a1',
      '/v1/rigs/a1/history',
      '/nope',
    ];
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${SECRET}` } });
      assert.ok(!res.body.includes(SECRET), url);
    }
    assert.ok(!logged.includes(SECRET));
  });
});

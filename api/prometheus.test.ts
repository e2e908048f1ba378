/**
 * `/metrics` checked like `promtool check metrics` would: parsed by parse-prometheus-text-format, every family
 * with HELP and TYPE, names in base units, counters ending `_total`, labels valid; per-rig series carry the
 * configured name and location.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Fleet } from '../collector/fleet.js';
import { validateConfig } from '../config/load.js';
import { makeSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';

const require = createRequire(import.meta.url);
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => Array<{
  name: string;
  help: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}>;

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

/**
 * A histogram's buckets as exposed (text order): `le` increasing, +Inf last, counts cumulative (never down) and
 * whole, +Inf equal to `_count`; the parser reads the same buckets.
 */
function assertHistogram(
  text: string,
  name: string,
  m: { buckets?: Record<string, string>; count?: string; sum?: string },
) {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}_bucket{`));
  const les = lines.map((l) => /\{le="([^"]+)"\}/.exec(l)![1]!);
  const counts = lines.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  assert.ok(les.length >= 2, `${name}: buckets`);
  assert.equal(les[les.length - 1], '+Inf', `${name}: +Inf bucket last`);
  const bounds = les.map((le) => (le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)));
  for (let i = 1; i < les.length; i++) {
    assert.ok(bounds[i]! > bounds[i - 1]!, `${name}: le increasing`);
    assert.ok(counts[i]! >= counts[i - 1]!, `${name}: buckets cumulative`);
  }
  assert.ok(counts.every(Number.isInteger), `${name}: whole counts`);
  assert.deepEqual(
    les.map((le) => Number(m.buckets![le])),
    counts,
    `${name}: parsed as exposed`,
  );
  assert.equal(counts[counts.length - 1], Number(m.count), `${name}: +Inf = _count`);
  assert.ok(Number.isFinite(Number(m.sum)) && Number(m.sum) >= 0, `${name}: _sum`);
}

test('/metrics parses, follows the naming rules, and names rigs as configured', async () => {
  const config = validateConfig({
    site: { name: 'tx-1' },
    rigs: [
      { name: 'c1-r01-s19pro', address: '10.0.0.11:4028', location: { row: 'A', rack: 'r01', slot: 1 } },
      { name: 'c1-r02-s19pro', address: '10.0.0.12:4028' },
    ],
  });
  const fleet = new Fleet([
    { name: 'c1-r01-s19pro', address: '10.0.0.11:4028', target: {} as never },
    { name: 'c1-r02-s19pro', address: '10.0.0.12:4028', target: {} as never },
  ]);
  fleet.update({
    ...makeSample('aa:bb:cc:00:00:01', T0, {
      address: '10.0.0.11:4028',
      power_miner_w: 3190,
      energy_wh: 1234.5,
    }),
  });
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: T0,
      sinks: () => [],
      polling: () => ({ rigs: 2, up: 1, last_sweep_ms: T0, last_sweep_duration_ms: 900 }),
    },
    config,
  });
  try {
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    const text = res.body;
    const families = parsePrometheusTextFormat(text);
    const names = families.map((f) => f.name);
    assert.equal(new Set(names).size, names.length, 'each family once');
    for (const f of families) {
      assert.match(f.name, /^rigtel_[a-z0-9_]+$/, f.name);
      assert.ok(f.help.length > 0, `${f.name} has HELP`);
      assert.ok(['GAUGE', 'COUNTER', 'HISTOGRAM'].includes(f.type), `${f.name} TYPE ${f.type}`);
      if (f.type === 'COUNTER') assert.match(f.name, /_total$/, `${f.name}: a counter ends in _total`);
      else assert.doesNotMatch(f.name, /_total$/, `${f.name}: only counters end in _total`);
      // Base units only: no _hs, _w, _ths, _kw, _ms suffixes.
      assert.doesNotMatch(f.name, /_(hs|ths|w|kw|ms|wh)$/, `${f.name} is not in base units`);
      for (const m of f.metrics) {
        if (f.type === 'HISTOGRAM') assertHistogram(text, f.name, m);
        else assert.ok(Number.isFinite(Number(m.value)), `${f.name} value ${m.value}`);
        for (const k of Object.keys(m.labels ?? {})) assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      }
    }
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('#')) assert.match(line, /^# (HELP|TYPE) rigtel_[a-z0-9_]+ \S/);
    }
    const family = (n: string) => families.find((f) => f.name === n)!;
    const build = family('rigtel_build_info').metrics[0]!;
    assert.equal(build.value, '1');
    assert.match(build.labels!.version!, /^\d+\.\d+\.\d+/);

    const hash = family('rigtel_rig_hashrate_hashes_per_second').metrics;
    assert.equal(hash.length, 1, 'the unpolled rig has no hashrate line (missing, not 0)');
    assert.deepEqual(hash[0]!.labels, {
      rig: 'aa:bb:cc:00:00:01',
      name: 'c1-r01-s19pro',
      site: 'tx-1',
      row: 'A',
      rack: 'r01',
      model: 'Antminer S19 Pro',
    });
    assert.equal(Number(hash[0]!.value), 110.2e12);
    const power = family('rigtel_rig_power_watts').metrics.map((m) => [m.labels!.source, Number(m.value)]);
    assert.deepEqual(power, [
      ['pdu', 3250.5],
      ['miner', 3190],
    ]);
    assert.equal(family('rigtel_rig_fan_speed_rpm').metrics.length, 4);
    assert.equal(Number(family('rigtel_rig_energy_joules_total').metrics[0]!.value), 1234.5 * 3600);
    const states = family('rigtel_rig_state').metrics.filter((m) => m.value === '1');
    assert.deepEqual(
      states.map((m) => [m.labels!.name, m.labels!.state]),
      [
        ['c1-r01-s19pro', 'mining'],
        ['c1-r02-s19pro', 'offline'],
      ],
    );
    assert.equal(family('rigtel_rig_up').metrics.find((m) => m.labels!.name === 'c1-r02-s19pro')!.value, '0');
  } finally {
    await app.close();
  }
});

test('event-loop delay: a histogram whose count grows, and a 120 ms block of the loop in le=0.2, not le=0.1', async () => {
  const config = validateConfig({ site: { name: 'tx-1' }, rigs: [] });
  const app = buildApp({
    fleet: new Fleet([]),
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: T0,
      sinks: () => [],
      polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
    },
    config,
  });
  const histogram = async () => {
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    const families = parsePrometheusTextFormat(res.body);
    const f = families.find((x) => x.name === 'rigtel_event_loop_delay_seconds')!;
    assert.equal(f.type, 'HISTOGRAM');
    const m = f.metrics[0]!;
    assertHistogram(res.body, f.name, m);
    const since = families.find((x) => x.name === 'rigtel_event_loop_delay_since_start_seconds')!;
    assert.deepEqual(
      since.metrics.map((s) => s.labels!.quantile),
      ['0.5', '0.99', '1'],
    );
    return { le: (b: string) => Number(m.buckets![b]), count: Number(m.count), sum: Number(m.sum) };
  };
  try {
    await app.ready();
    await new Promise((r) => setTimeout(r, 100));
    const before = await histogram();
    assert.ok(before.count > 0, 'the sampler ticks once the app is ready');
    const t = performance.now();
    while (performance.now() - t < 120) {
      // busy-wait: the API's loop is blocked
    }
    await new Promise((r) => setTimeout(r, 50));
    const after = await histogram();
    assert.ok(after.count > before.count, '_count grows');
    const inBucket = (x: typeof before) => x.le('0.2') - x.le('0.1');
    assert.ok(inBucket(after) - inBucket(before) >= 1, 'the block counted in (0.1, 0.2]');
    assert.ok(after.sum - before.sum >= 0.1, '_sum grew by the block');
  } finally {
    await app.close();
  }
});

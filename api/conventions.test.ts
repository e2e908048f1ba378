/**
 * API conventions over the real fleet state and the real embedded store: 405 with Allow, MAC lookup in either
 * case, history that keeps 0 as 0 and rounds to each unit's precision, the alert rules the page judges by, and
 * the server-sent event stream (snapshot on connect, changed rigs pushed after a poll).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Fleet } from '../collector/fleet.js';
import { silentLogger } from '../collector/journal.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { validateConfig } from '../config/load.js';
import type { Sample } from '../protocols/sample.js';
import { makeSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const MAC = 'aa:bb:cc:00:11:22';
const ADDRESS = '127.0.0.1:4028';

describe('API conventions', () => {
  let dir: string;
  let store: EmbeddedStore;
  let fleet: Fleet;
  let app: FastifyInstance;
  const listeners = new Set<(s: Sample) => void>();
  const feed = (s: Sample) => {
    fleet.update(s);
    for (const fn of listeners) fn(s);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-conv-'));
    const config = validateConfig({
      site: { name: 'conv' },
      rigs: [{ name: 'c1-r01-s19', address: ADDRESS, location: { row: 'A', rack: 'r01', slot: 2 } }],
      storage: { dir },
      alerts: { temperature: { chip_limit_c: 91 } },
    });
    store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24,
      rollupRetentionDays: 365,
      intervalMs: 30_000,
      backoffMaxMs: 60_000,
      log: silentLogger,
      now: () => T0 + 3600_000,
    });
    fleet = new Fleet([{ name: 'c1-r01-s19', address: ADDRESS, target: {} as never }]);
    const s = (i: number, o: Partial<Sample>) => ({
      ...makeSample(MAC, T0 + i * 30_000, { address: ADDRESS, ...o }),
      identity: { ...makeSample(MAC, 0).identity, mac: MAC },
    });
    // Two buckets: one hashing at an odd figure, one polled fine in error at exactly 0 H/s.
    const samples = [
      s(0, { hashrate_hs: 100.123456789e12, power_w: 3250.04, temp_chip_max_c: 78.55 }),
      s(1, { hashrate_hs: 100.123456789e12, power_w: 3250.04, temp_chip_max_c: 78.55 }),
      s(4, { state: 'error', hashrate_hs: 0, power_w: 120 }),
    ];
    await store.write(samples.map((sample, i) => ({ seq: i + 1, sample })));
    for (const sample of samples) fleet.update(sample);
    app = buildApp({
      fleet,
      history: store,
      health: {
        started_ms: T0,
        sinks: () => [],
        polling: () => ({ rigs: 1, up: 1, last_sweep_ms: null, last_sweep_duration_ms: null }),
      },
      config,
      onSample: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a wrong method is 405 with Allow; an unknown path stays 404', async () => {
    const r = await app.inject({ method: 'DELETE', url: '/v1/rigs/c1-r01-s19' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.equal(r.json().error.code, 'RT_ERR_API_METHOD_NOT_ALLOWED');
    const post = await app.inject({ method: 'GET', url: '/v1/rigs/c1-r01-s19/poll' });
    assert.equal(post.statusCode, 405);
    assert.equal(post.headers.allow, 'POST');
    const none = await app.inject({ method: 'DELETE', url: '/v1/nothing' });
    assert.equal(none.statusCode, 404);
  });

  test('OpenAPI at /docs/openapi.json documents every route with its replies; /docs lists them', async () => {
    const doc = (await app.inject('/docs/openapi.json')).json() as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: unknown[] }>>;
    };
    assert.match(doc.openapi, /^3\./);
    const expected = [
      'GET /healthz',
      'GET /metrics',
      'GET /v1/alerts',
      'GET /v1/alerts/rules',
      'GET /v1/events',
      'GET /v1/fleet',
      'GET /v1/power/devices',
      'GET /v1/rigs',
      'GET /v1/rigs/{id}',
      'GET /v1/rigs/{id}/history',
      'GET /v1/status',
      'POST /v1/rigs/{id}/poll',
    ];
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    for (const route of expected) assert.ok(documented.includes(route), `${route} is documented`);
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        assert.ok(op.responses['200'], `${method} ${path} documents 200`);
    const history = doc.paths['/v1/rigs/{id}/history']!.get!.parameters as Array<{
      in: string;
      name: string;
    }>;
    assert.deepEqual(history.map((p) => `${p.in}:${p.name}`).sort(), [
      'path:id',
      'query:from',
      'query:step',
      'query:to',
    ]);
    const page = await app.inject('/docs');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<code>POST<\/code><\/td><td><code>\/v1\/rigs\/\{id\}\/poll<\/code>/);
  });

  test('a MAC finds its rig in either case; the rig carries its location and identity', async () => {
    for (const id of [MAC, MAC.toUpperCase(), MAC.toUpperCase().replace(/:/g, '-')]) {
      const r = await app.inject({ url: `/v1/rigs/${encodeURIComponent(id)}` });
      assert.equal(r.statusCode, 200, id);
      const body = r.json();
      assert.equal(body.name, 'c1-r01-s19');
      assert.deepEqual(body.location, { site: 'conv', row: 'A', rack: 'r01', slot: 2 });
      assert.equal(body.make, 'Bitmain');
      assert.equal(body.mac, MAC);
    }
  });

  test('history keeps a polled 0 H/s as 0 and rounds each figure to its unit', async () => {
    const r = await app.inject({
      url: `/v1/rigs/c1-r01-s19/history?from=${T0}&to=${T0 + 4 * 60_000}&step=1m`,
    });
    assert.equal(r.statusCode, 200);
    const points = r.json().points as Array<Record<string, number | null>>;
    assert.equal(points[0]!.hashrate_hs, 100123456789000);
    assert.equal(points[0]!.power_w, 3250);
    assert.equal(points[0]!.temp_chip_max_c, 78.6);
    assert.equal(points[1]!.polls, 0);
    assert.equal(points[1]!.hashrate_hs, null, 'no poll: null');
    assert.equal(points[2]!.polls, 1);
    assert.equal(points[2]!.hashrate_hs, 0, 'polled fine at 0 H/s: 0');
  });

  test('the alert rules are served for views to judge by', async () => {
    const rules = (await app.inject({ url: '/v1/alerts/rules' })).json();
    assert.equal(rules.temperature.chip_limit_c, 91);
    assert.equal(rules.hashrate_low.below_share, 0.8);
  });

  test('poll now without a collector is a named 503', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/rigs/c1-r01-s19/poll' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().error.code, 'RT_ERR_API_POLL_UNAVAILABLE');
  });

  test('GET /v1/events: a snapshot on connect, then the rig that was polled', async () => {
    const addr = app.server.address() as { port: number };
    type Rig = { state: string; location: { rack: string } };
    const events: Array<{
      event: string;
      data: { rigs: Rig[]; fleet: { states: Record<string, number> } };
    }> = [];
    const req = request({ host: '127.0.0.1', port: addr.port, path: '/v1/events' });
    const done = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/event-stream/);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end = buf.indexOf('\n\n');
          while (end !== -1) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) {
              events.push({ event, data: JSON.parse(data) });
              if (event === 'snapshot')
                feed({
                  ...fleet.get(ADDRESS)!.current!,
                  at_ms: T0 + 10 * 30_000,
                  state: 'sleeping',
                  hashrate_hs: 0,
                });
              if (event === 'fleet') resolve();
            }
            end = buf.indexOf('\n\n');
          }
        });
      });
      req.on('error', reject);
    });
    req.end();
    await done;
    req.destroy();
    assert.deepEqual(
      events.map((e) => e.event),
      ['snapshot', 'rigs', 'fleet'],
    );
    assert.equal(events[0]!.data.rigs[0]!.state, 'error');
    assert.equal(events[0]!.data.rigs[0]!.location.rack, 'r01');
    assert.equal(events[1]!.data.rigs.length, 1);
    assert.equal(events[1]!.data.rigs[0]!.state, 'sleeping');
    assert.equal(events[2]!.data.fleet.states.sleeping, 1);
  });
});

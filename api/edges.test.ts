/**
 * API edges: the Host allow-list (DNS rebinding), the HTTP parser's own 4xx in the RT_ERR body, absurd history
 * ranges refused with 400, and owner-only storage files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startCollector } from '../collector/runtime.js';
import type { FleetView, HistoryStore } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { createLogger } from '../lib/log.js';
import { driverFor } from '../protocols/registry.js';
import { buildApp } from './app.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const fleet: FleetView = {
  list: () => [],
  get: () => undefined,
} as unknown as FleetView;
const history: HistoryStore = {
  history: () => [],
  rigIds: () => ['r1'],
} as unknown as HistoryStore;

function app(extra: Record<string, unknown> = {}): FastifyInstance {
  const config = validateConfig({ api: { listen: '127.0.0.1:0', ...extra } });
  return buildApp({
    fleet,
    history,
    health: { started_ms: NOW - 1000, sinks: () => [], polling: () => ({}) } as never,
    config,
    now: () => NOW,
  });
}

/** Raw HTTP to a listening app, so Node's own parser sees the request. */
function raw(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host allow-list', () => {
  test('loopback names with any port pass; a rebinding name gets 421 with the RT_ERR body', async () => {
    const a = app();
    for (const host of ['127.0.0.1:8080', 'localhost', 'LOCALHOST:1', '[::1]:8080', 'localhost.']) {
      const res = await a.inject({ url: '/healthz', headers: { host } });
      assert.notEqual(res.statusCode, 421, host);
    }
    for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', '10.0.0.5:8080']) {
      const res = await a.inject({ url: '/v1/fleet', headers: { host } });
      assert.equal(res.statusCode, 421, host);
      assert.deepEqual(Object.keys(res.json().error), ['code', 'message']);
      assert.equal(res.json().error.code, 'RT_ERR_API_HOST_NOT_ALLOWED');
    }
    await a.close();
  });

  test('configured names are answered too', async () => {
    const a = app({ allowed_hosts: ['rigtel.site.lan', '10.0.9.5'] });
    for (const host of ['rigtel.site.lan:8080', '10.0.9.5']) {
      assert.notEqual((await a.inject({ url: '/healthz', headers: { host } })).statusCode, 421, host);
    }
    assert.equal((await a.inject({ url: '/healthz', headers: { host: 'other.lan' } })).statusCode, 421);
    await a.close();
  });
});

describe('the HTTP layer speaks RT_ERR too', () => {
  let a: FastifyInstance;
  let port: number;
  before(async () => {
    a = app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    port = (a.server.address() as { port: number }).port;
  });
  after(() => a.close());

  test('a URL longer than the parser accepts: 431 with {error:{code,message}}', async () => {
    const res = await raw(port, `/v1/fleet?${'x'.repeat(40_000)}`);
    assert.equal(res.status, 431);
    assert.equal(JSON.parse(res.body).error.code, 'RT_ERR_API_BAD_REQUEST');
  });

  test('absurd history ranges are refused with 400 naming the field', async () => {
    for (const [q, field] of [
      ['step=100000000d', 'step'],
      ['step=367d', 'step'],
      [`to=${NOW + 10 * 86_400_000}`, 'to'],
      ['from=1000&to=2000&step=1m', 'from'],
    ] as const) {
      const res = await a.inject({ url: `/v1/rigs/r1/history?${q}` });
      assert.equal(res.statusCode, 400, q);
      assert.equal(res.json().error.code, 'RT_ERR_API_BAD_REQUEST', q);
      assert.equal(res.json().error.field, field, q);
    }
    assert.equal((await a.inject({ url: '/v1/rigs/r1/history?step=1d' })).statusCode, 200);
  });
});

describe('storage files', () => {
  test('are 0600 in a 0700 dir (they hold pool worker names)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rigtel-perm-')), 'data');
    try {
      const config = validateConfig({ storage: { dir, journal_fsync: 'off' } });
      const c = await startCollector(config, [], { driverFor, log: createLogger('silent') });
      await c.stop();
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      const files = readdirSync(dir);
      assert.ok(files.length >= 2, files.join(','));
      for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});

/**
 * Property-based tests (fast-check) over the API's query parsing and the config loader: arbitrary query strings
 * and paths never give a 5xx, every 4xx carries the RT_ERR body; arbitrary config text and shapes only ever
 * produce a list of problems or a config, never a crash.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FleetView, HistoryStore } from '../collector/views.js';
import { checkConfig, parseConfigText, validateConfig } from '../config/load.js';
import { RtError } from '../lib/errors.js';
import { buildApp } from './app.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const app = buildApp({
  fleet: { list: () => [], get: () => undefined } as unknown as FleetView,
  history: { history: () => [], rigIds: () => ['r1'] } as unknown as HistoryStore,
  health: {
    started_ms: NOW,
    sinks: () => [],
    polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
  } as never,
  config: validateConfig({}),
  now: () => NOW,
});
after(() => app.close());

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '100000000d',
    '1e999',
    '-1',
    '0',
    '9'.repeat(30),
    '2026-11-25T10:00:00Z',
    'NaN',
    '5m',
    '%00',
    '%ZZ',
  ),
  fc.integer().map(String),
);
const queryKey = fc.constantFrom('from', 'to', 'step', 'state', 'family', 'sort', 'limit', 'x', 'below', '');

describe('fuzz: API query parsing', () => {
  it('history and rig list queries: 2xx or a 4xx with {error:{code,message}}, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/rigs/r1/history',
          '/v1/rigs',
          '/v1/fleet',
          '/v1/alerts',
          '/v1/rigs/r1',
          '/metrics',
        ),
        fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }),
        async (path, pairs) => {
          const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const res = await app.inject({ url: `${path}${qs ? `?${qs}` : ''}` });
          assert.ok(res.statusCode < 500, `${path}?${qs}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (res.statusCode >= 400) {
            const body = res.json() as { error: { code: string; message: string } };
            assert.match(body.error.code, /^RT_ERR_[A-Z_]+$/);
            assert.equal(typeof body.error.message, 'string');
          }
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('raw paths with odd bytes and encodings never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (tail) => {
        const res = await app.inject({
          url: `/v1/rigs/${encodeURIComponent(tail)}/history?step=${encodeURIComponent(tail)}`,
        });
        assert.ok(res.statusCode < 500, `${tail}: ${res.statusCode}`);
      }),
      { numRuns: 200, endOnFailure: true },
    );
  });
});

describe('fuzz: config loader', () => {
  it('arbitrary text and shapes: a config or a list of problems (or a named error), never a crash', () => {
    const check = (raw: unknown) => {
      const r = checkConfig(raw);
      if (!r.ok) assert.ok(r.problems.length > 0 && r.problems.every((p) => typeof p === 'string'));
    };
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        let raw: unknown;
        try {
          raw = parseConfigText(text, 'fuzz.yaml');
        } catch (err) {
          assert.ok(err instanceof RtError && err.code === 'RT_ERR_CONFIG_UNREADABLE', String(err));
          return;
        }
        check(raw);
      }),
      { numRuns: 300, endOnFailure: true },
    );
    const section = fc.constantFrom(
      'site',
      'rigs',
      'poll',
      'storage',
      'api',
      'log',
      'emulator',
      'snmp',
      'sinks',
      'alerts',
      'discovery',
      'shutdown',
    );
    fc.assert(fc.property(fc.dictionary(section, fc.jsonValue({ maxDepth: 3 })), check), {
      numRuns: 300,
      endOnFailure: true,
    });
    // Plausible-looking rigs with hostile addresses and ports.
    const address = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.tuple(fc.ipV4(), fc.integer({ min: -10, max: 100_000 })).map(([h, p]) => `${h}:${p}`),
      fc.constantFrom('10.0.0.300', '[::1]:4028', '[zz]:1', ':99999', 'a..b:1', `${'a'.repeat(300)}:1`),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ address }), { maxLength: 5 }), (rigs) => check({ rigs })),
      {
        numRuns: 300,
        endOnFailure: true,
      },
    );
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAvalon } from './avalon/parse.js';
import { parseBitaxe } from './bitaxe/parse.js';
import { parseBraiins } from './braiins/parse.js';
import { identify } from './identify.js';
import { parseInnosilicon } from './innosilicon/parse.js';
import { maxOfDashList, num } from './kit/index.js';
import { parseLuxos } from './luxos/parse.js';
import { parseVnish } from './vnish/parse.js';

const HOSTILE: unknown[] = [
  null,
  'garbage',
  42,
  [],
  {},
  { STATUS: 'E' },
  { SUMMARY: 'x', STATS: [1, null, 'a'], POOLS: [{ POOL: 'x', Accepted: -5 }] },
  { SUMMARY: [{ 'MHS 5s': 'NaN', 'GHS 5s': 'inf', Elapsed: -1 }] },
  { STATS: [{ 'MM ID0': 'Ver[ PS[1 2' }] },
  { TEMPS: [{ ID: 'six', Board: '' }], FANS: [{ RPM: -1 }], DEVS: [{ ID: null }] },
];

test('no parser throws on hostile bodies; nothing becomes a silent zero', () => {
  for (const body of HOSTILE) {
    const readings = [
      parseBraiins({ summary: body, devs: body, temps: body, fans: body, pools: body, version: body }),
      parseLuxos({ stats: body, temps: body, power: body, devs: body, version: body }),
      parseVnish({ stats: body, pools: body, version: body }),
      parseAvalon({ stats: body, summary: body, joined: body, version: body }),
      parseInnosilicon({ summary: body, stats: body, pools: body }),
      parseBitaxe(body),
    ];
    for (const r of readings) {
      assert.notEqual(r.hashrate_hs, 0, JSON.stringify(body));
      assert.ok(['error', 'sleeping'].includes(r.state) || r.hashrate_hs !== null);
      assert.ok(r.notes.length > 0 || r.support !== 'full' || r.hashrate_hs !== null);
    }
    assert.doesNotThrow(() =>
      identify({ version: body as never, devdetails: body as never, httpInfo: body }),
    );
  }
});

test('value helpers: numbers as strings, padded, empty, negative temps in dash lists', () => {
  assert.equal(num('  5.0000'), 5);
  assert.equal(num(''), null);
  assert.equal(num('12,5'), null);
  assert.equal(maxOfDashList('2--1-20-22'), 22);
  assert.equal(maxOfDashList('-8--11-10-12'), 12);
  assert.equal(maxOfDashList('0-0-0-0'), null);
  assert.equal(maxOfDashList('x-y'), null);
});

import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expected, familyCases } from '../../testing/fixture-cases.js';
import { parseLuxos } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const cases = familyCases('luxos');

test('every luxos fixture in INDEX.md is covered', () => {
  assert.ok(cases.length > 0);
});

for (const c of cases) {
  test(`${c.file} (${c.command}) → normalized reading`, () => {
    const reading = parseLuxos({ [c.command]: c.body });
    reading.repairs = c.repairs;
    const want = expected(here, c.file, reading);
    assert.ok(want, `missing testdata/expected for ${c.file}`);
    assert.deepEqual(reading, want);
  });
}

// No capture of these commands exists in protocols/fixtures/real: bodies shaped from docs/protocols.md, "## LuxOS" (field names and
// units), to pin the mapping, not the firmware's bytes.
test('LuxOS power / devs IsRamping / profiles, shaped from docs/protocols.md, "## LuxOS"', () => {
  const r = parseLuxos({
    summary: { STATUS: [{ STATUS: 'S', Code: 11 }], SUMMARY: [{ 'GHS 5s': 100, 'GHS av': 98, Elapsed: 60 }] },
    devs: {
      DEVS: [
        { ID: 2, 'MHS 5s': 30_000_000, 'Nominal MHS': 33_000_000, IsRamping: true },
        { ID: 0, 'MHS 5s': 35_000_000, 'Nominal MHS': 33_000_000, IsRamping: false },
        { ID: 1, 'MHS 5s': 35_000_000, 'Nominal MHS': 33_000_000, IsRamping: false },
      ],
    },
    power: { STATUS: [{ STATUS: 'S', Code: 311 }], POWER: [{ Watts: 3250, PSU: false }] },
    profiles: { PROFILES: [{ Profile: 'default', Hashrate: 104.0, Watts: 3250, IsActive: true }] },
  });
  assert.equal(r.state, 'ramping');
  assert.equal(r.hashrate_hs, 100e9);
  assert.deepEqual(
    r.boards.map((b) => [b.index, b.hashrate_hs]),
    [
      [0, 35e12],
      [1, 35e12],
      [2, 30e12],
    ],
  );
  assert.equal(r.hashrate_nominal_hs, 99e12);
  assert.deepEqual([r.power_w, r.power_source], [3250, 'estimate']);
  const psu = parseLuxos({ power: { POWER: [{ Watts: 3100, PSU: true }] } });
  assert.equal(psu.power_source, 'miner');
  const prof = parseLuxos({ profiles: { PROFILES: [{ Hashrate: 104.5, IsActive: true }] } });
  assert.equal(prof.hashrate_nominal_hs, 104.5e12);
});

import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expected } from '../../testing/fixture-cases.js';
import { fixtureIndex, readFixtureText } from '../fixtures.js';
import { parseBitaxe, parseSuffixed } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const files = fixtureIndex().filter((e) => e.family === 'bitaxe');

test('bitaxe fixtures exist in INDEX.md', () => assert.ok(files.length > 0));

for (const f of files) {
  test(`${f.file} → normalized reading`, () => {
    const reading = parseBitaxe(JSON.parse(readFixtureText(f.file)));
    const want = expected(here, f.file, reading);
    assert.ok(want, `missing testdata/expected for ${f.file}`);
    assert.deepEqual(reading, want);
  });
}

test('suffixed difficulty strings', () => {
  assert.equal(parseSuffixed('483k'), 483_000);
  assert.equal(parseSuffixed('1.25M'), 1_250_000);
  assert.equal(parseSuffixed('0'), 0);
  assert.equal(parseSuffixed('lots'), null);
});

test('a reply that is not AxeOS is unsupported, not a crash', () => {
  const r = parseBitaxe({ hello: 'world' });
  assert.equal(r.support, 'unsupported');
  assert.equal(r.hashrate_hs, null);
  assert.ok(r.raw?.includes('hello'));
});

import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expected, familyCases } from '../../testing/fixture-cases.js';
import { parseInnosilicon } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const cases = familyCases('innosilicon');

test('every innosilicon fixture in INDEX.md is covered', () => {
  assert.ok(cases.length > 0);
});

for (const c of cases) {
  test(`${c.file} (${c.command}) → normalized reading`, () => {
    const reading = parseInnosilicon({ [c.command]: c.body });
    reading.repairs = c.repairs;
    const want = expected(here, c.file, reading);
    assert.ok(want, `missing testdata/expected for ${c.file}`);
    assert.deepEqual(reading, want);
  });
}

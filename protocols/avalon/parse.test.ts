import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expected, familyCases } from '../../testing/fixture-cases.js';
import { parseAvalon } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const cases = familyCases('avalon');

test('every avalon fixture in INDEX.md is covered', () => {
  assert.ok(cases.length > 0);
});

for (const c of cases) {
  test(`${c.file} (${c.command}) → normalized reading`, () => {
    const reading = parseAvalon({ [c.command]: c.body });
    reading.repairs = c.repairs;
    const want = expected(here, c.file, reading);
    assert.ok(want, `missing testdata/expected for ${c.file}`);
    assert.deepEqual(reading, want);
  });
}

test('parseMmId: key[value] tokens, double spaces inside arrays, keys with a space, wrapper, junk', async () => {
  const { mmList, parseMmId } = await import('./parse.js');
  const mm = parseMmId(
    'Ver[1047-20051101_85dc6f0_0332654] PVT_T0[ 56  56  54] Nonce Mask[25] FanR[31%] FACOPTS0[]',
  );
  assert.deepEqual(mm, {
    Ver: '1047-20051101_85dc6f0_0332654',
    PVT_T0: ' 56  56  54',
    'Nonce Mask': '25',
    FanR: '31%',
    FACOPTS0: '',
  });
  assert.deepEqual(mmList(mm['PVT_T0']), [56, 56, 54]);
  assert.deepEqual(parseMmId("'STATS':{Ver[Q-1] WALLPOWER[1650]}"), { Ver: 'Q-1', WALLPOWER: '1650' });
  assert.deepEqual(parseMmId('Ver[1] Broken[no close'), { Ver: '1' });
  assert.deepEqual(parseMmId(''), {});
  assert.deepEqual(parseMmId('SYSTEMSTATU[Work: In Work, Hash Board: 2 ]'), {
    SYSTEMSTATU: 'Work: In Work, Hash Board: 2 ',
  });
});

test('Avalon power: WALLPOWER first, then PS[6] flagged inferred, then PS[4] flagged DC', async () => {
  const { parseAvalon } = await import('./parse.js');
  const stats = (mm: string) => ({ STATS: [{ STATS: 0, 'MM ID0': mm }] });
  const a = parseAvalon({ stats: stats('GHSspd[100] WALLPOWER[3731] PS[0 1209 1187 297 3526 1188 3731]') });
  assert.deepEqual([a.power_w, a.power_source], [3731, 'miner']);
  const b = parseAvalon({ stats: stats('GHSspd[100] PS[0 1214 1316 242 3189 1320 3504]') });
  assert.equal(b.power_w, 3504);
  assert.ok(b.notes.some((n) => n.includes('inferred')));
  const c = parseAvalon({ stats: stats('GHSspd[100] PS[0 1214 1316 242 3189]') });
  assert.equal(c.power_w, 3189);
  assert.ok(c.notes.some((n) => n.includes('DC output')));
  const idle = parseAvalon({ stats: stats('GHSspd[0] SoftOFF[1] TMax[0]') });
  assert.equal(idle.state, 'sleeping');
  assert.equal(idle.temp_chip_max_c, null);
});

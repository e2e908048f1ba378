import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expected, familyCases } from '../../testing/fixture-cases.js';
import { parseBraiins } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const cases = familyCases('braiins');

test('every braiins fixture in INDEX.md is covered', () => {
  assert.ok(cases.length > 0);
});

for (const c of cases) {
  test(`${c.file} (${c.command}) → normalized reading`, () => {
    const reading = parseBraiins({ [c.command]: c.body });
    reading.repairs = c.repairs;
    const want = expected(here, c.file, reading);
    assert.ok(want, `missing testdata/expected for ${c.file}`);
    assert.deepEqual(reading, want);
  });
}

// Shaped from docs/protocols.md, "## Braiins OS" (no capture in protocols/fixtures/real): tunerstatus power is a model estimate;
// devdetails gives the model ("Bitmain " prefix dropped) and chips per board.
test('Braiins tunerstatus and devdetails, shaped from docs/protocols.md, "## Braiins OS"', () => {
  const r = parseBraiins({
    tunerstatus: {
      TUNERSTATUS: [{ PowerLimit: 1400, ApproximateMinerPowerConsumption: 1380, TunerChainStatus: [] }],
    },
    devdetails: {
      DEVDETAILS: [
        { ID: 1, Model: 'Bitmain Antminer S19XP', Chips: 110 },
        { ID: 2, Model: 'Bitmain Antminer S19XP', Chips: 110 },
      ],
    },
  });
  assert.deepEqual([r.power_w, r.power_source], [1380, 'estimate']);
  assert.equal(r.identity.model, 'Antminer S19 XP');
  assert.deepEqual(
    r.boards.map((b) => [b.index, b.chips]),
    [
      [0, 110],
      [1, 110],
    ],
  );
});

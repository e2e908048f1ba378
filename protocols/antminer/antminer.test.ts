/**
 * Every Antminer reply in protocols/fixtures/real/INDEX.md decodes (with the repairs its notes call for) and parses
 * to a plausible reading; a representative set is compared with hand-checked expected output
 * (testdata/expected/*.json, each number checked against the raw reply).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureIndex, readFixture } from '../fixtures.js';
import { decodeReply, lookupModel, REPAIR } from '../kit/index.js';
import type { MinerReading } from '../sample.js';
import { antminerFlavour, cleanAntminerModel, parseAntminer, parseSensorString } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const expectedDir = join(here, 'testdata', 'expected');

/** Walks a value and fails on NaN / Infinity anywhere. */
function assertFinite(v: unknown, path: string): void {
  if (typeof v === 'number') assert.ok(Number.isFinite(v), `${path} is ${v}`);
  else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) assertFinite(x, `${path}[${i}]`);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) assertFinite(x, `${path}.${k}`);
  }
}

/** Models the fixtures name that are not Bitmain products: mskminer labels its S9 build "Antminer S9 Pro (v5.1)". */
const NOT_IN_TABLE = new Set(['Antminer S9 Pro']);

function assertTemp(v: number | null, what: string): void {
  if (v === null) return;
  assert.ok(v >= -40 && v <= 130, `${what} = ${v} °C out of range`);
}

function assertPlausible(r: MinerReading, file: string): void {
  assertFinite(r, file);
  assertTemp(r.temp_board_max_c, `${file} temp_board_max_c`);
  assertTemp(r.temp_chip_max_c, `${file} temp_chip_max_c`);
  for (const b of r.boards) {
    assertTemp(b.temp_board_c, `${file} board ${b.index}`);
    assertTemp(b.temp_chip_c, `${file} chip ${b.index}`);
    assert.ok(b.index >= 0 && b.index < 4, `${file} board index ${b.index}`);
  }
  for (const f of r.fans) assert.ok(f.rpm !== null && f.rpm > 0 && f.rpm < 20000, `${file} fan ${f.rpm}`);
  const spec = lookupModel(r.identity.model);
  if (!NOT_IN_TABLE.has(r.identity.model ?? '')) {
    assert.ok(spec, `${file}: model ${r.identity.model} is in the model table`);
  }
  // Nameplate of the model, or for the unofficial "S9 Pro" a generic SHA-256 ASIC of ~13 TH/s.
  const nameplate = spec?.hashrate_hs ?? 13e12;
  if (r.state === 'mining') {
    assert.ok(r.hashrate_hs !== null && r.hashrate_hs > 0, `${file}: mining with hashrate`);
    // Within a sane band of the nameplate (the mskminer S9 Pro at 16 s uptime runs at ~0.67×).
    const ratio = r.hashrate_hs / nameplate;
    assert.ok(ratio > 0.3 && ratio < 1.6, `${file}: hashrate ${r.hashrate_hs} vs nameplate ${nameplate}`);
  } else {
    assert.ok(['sleeping', 'error'].includes(r.state), `${file}: state ${r.state}`);
  }
  if (spec && spec.algorithm !== 'sha256')
    assert.ok(
      r.notes.some((n) => /not SHA-256/.test(n)),
      `${file}: algo note`,
    );
}

const antminerRows = fixtureIndex().filter((e) => e.family === 'antminer');

describe('every antminer fixture', () => {
  it('covers the index', () => {
    assert.ok(antminerRows.length >= 40, `only ${antminerRows.length} antminer rows`);
  });
  for (const e of antminerRows) {
    it(`${e.file} (${e.command})`, () => {
      const d = decodeReply(readFixture(e.file));
      // The repairs each malformed capture needs, as its INDEX row describes it.
      if (e.notes.includes('`}{` between objects'))
        assert.deepEqual(d.repairs, [REPAIR.missingCommaBetweenObjects]);
      else if (e.file === 'antminer_s9k_version.txt') assert.deepEqual(d.repairs, [REPAIR.trailingJunk]);
      else assert.deepEqual(d.repairs, [], `${e.file} should need no repair`);

      const parts = { [e.command]: d.value };
      const r = parseAntminer(parts);
      assertFinite(r, e.file);
      if (e.command === 'stats') assertPlausible(r, e.file);
      if (e.command === 'version') {
        assert.ok(r.identity.model, `${e.file}: model`);
        assert.ok(r.identity.firmware, `${e.file}: firmware`);
        if (!NOT_IN_TABLE.has(r.identity.model ?? '')) {
          assert.ok(lookupModel(r.identity.model), `${e.file}: ${r.identity.model} in the model table`);
        }
      }
      if (e.command === 'pools') {
        assert.ok(r.pools.length > 0, `${e.file}: pools`);
        assert.ok(
          r.pools.every((p) => p.status !== null && p.active !== null),
          `${e.file}: every pool has a status and an active flag`,
        );
      }
    });
  }
});

describe('expected normalized output (hand-checked)', () => {
  const files = readdirSync(expectedDir).filter((f) => f.endsWith('.json'));
  it('has the representative set', () => {
    for (const name of [
      'antminer_s9_stats',
      'antminer_s9hiveon_stats',
      'antminer_s17pro_stats',
      'antminer_s19pro_stats',
      'antminer_s21xphyd_stats',
      'antminer_l3plus_stats',
      'antminer_s17plus_stats',
    ]) {
      assert.ok(files.includes(`${name}.json`), name);
    }
  });
  for (const f of files) {
    it(f, () => {
      const expected = JSON.parse(readFileSync(join(expectedDir, f), 'utf8')) as {
        inputs: Record<string, string>;
        repairs: Record<string, string[]>;
        reading: MinerReading;
      };
      const parts: Record<string, unknown> = {};
      for (const [cmd, file] of Object.entries(expected.inputs)) {
        const d = decodeReply(readFixture(file));
        assert.deepEqual(d.repairs, expected.repairs[cmd], `${file} repairs`);
        parts[cmd] = d.value;
      }
      assert.deepEqual(parseAntminer(parts), expected.reading);
    });
  }
});

describe('antminer helpers', () => {
  it('reads sensor strings with negative values', () => {
    assert.deepEqual(parseSensorString('2--1-20-22'), [2, -1, 20, 22]);
    assert.deepEqual(parseSensorString('-8--11-10-12'), [-8, -11, 10, 12]);
    assert.deepEqual(parseSensorString('25-61'), [25, 61]);
    assert.deepEqual(parseSensorString('0-0-0-0'), []);
    assert.deepEqual(parseSensorString('-'), []);
    assert.deepEqual(parseSensorString(''), []);
    assert.deepEqual(parseSensorString(42), []);
  });

  it('cleans models and names the firmware flavour', () => {
    assert.equal(cleanAntminerModel('Antminer S9\nV1.3.58'), 'Antminer S9');
    assert.equal(cleanAntminerModel('Antminer S9 Pro (v5.1) '), 'Antminer S9 Pro');
    assert.equal(cleanAntminerModel('Antminer S9 (vnish 3.8.6)'), 'Antminer S9');
    assert.equal(cleanAntminerModel('Antminer S19JPRO Hiveon'), 'Antminer S19JPRO');
    assert.equal(cleanAntminerModel('Antminer D3 Blissz v2.06 beta'), 'Antminer D3');
    assert.equal(antminerFlavour('Antminer S9 Hiveon', '2.0.0 rwglr'), 'hiveon');
    assert.equal(antminerFlavour('Antminer S9 Pro (v5.1) ', '2.0.0 rwglr'), 'mskminer');
    assert.equal(antminerFlavour('Antminer S9 (vnish 3.8.6)', '4.11.1'), 'vnish');
    assert.equal(antminerFlavour('Antminer S9', '2.4.0-asicseer-1.1.9-f7b7'), 'asicseer');
    assert.equal(antminerFlavour('Antminer S19 Pro', '1.0.0'), 'stock');
  });

  it('maps S9 chain slots 6-8 and E3 triples to 0-based boards', () => {
    const s9 = parseAntminer({
      stats: {
        STATS: [{ Type: 'Antminer S9' }, { Elapsed: 1, chain_acn7: 63, chain_acn8: 63, chain_rate7: '1.0' }],
      },
    });
    assert.deepEqual(
      s9.boards.map((b) => b.index),
      [1, 2],
    );
    const e3 = parseAntminer({ stats: readE3() });
    assert.deepEqual(
      e3.boards.map((b) => [b.index, b.chips]),
      [
        [0, 6],
        [1, 6],
        [2, 6],
      ],
    );
  });

  it('hostile stats values give nulls, not NaN or crashes', () => {
    const r = parseAntminer({
      stats: {
        STATS: [
          { Type: 42 },
          {
            Elapsed: 'x',
            'GHS 5s': 'nan',
            chain_acn1: 'abc',
            chain_acs1: 'oo',
            temp1: 999,
            temp_pcb1: '1-2-3-4-5-6-7',
          },
        ],
      },
      version: { VERSION: 'nope' },
      pools: { POOLS: [null, 1, { POOL: 'x' }] },
    });
    assertFinite(r, 'hostile');
    assert.equal(r.hashrate_hs, null);
    assert.equal(r.boards[0]?.temp_board_c, 7);
  });
});

function readE3(): unknown {
  return decodeReply(readFixture('antminer_e3_stats.txt')).value;
}

describe('parseAntminer: fuzz', () => {
  it('mutated fixtures that still decode never make the parser throw or emit NaN', () => {
    let seed = Number(process.env['RIGTEL_FUZZ_SEED'] ?? 0x1234_5678);
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const sources = antminerRows.map((e) => [e.command, readFixture(e.file).toString('utf8')] as const);
    // Replace values with hostile ones of other types; keep the structure so the reply still decodes.
    const hostile = [
      '""',
      '"-"',
      '"x--y"',
      'null',
      '-1',
      '1e308',
      '"1e999"',
      '[]',
      '{}',
      'true',
      '"0-0-0-0"',
      '-300',
    ];
    let parsed = 0;
    for (let i = 0; i < 600; i++) {
      const [cmd, src] = sources[Math.floor(rand() * sources.length)]!;
      let s = src;
      for (let k = 0; k < 8; k++) {
        s = s.replace(/:\s*("[^"]*"|-?\d+(?:\.\d+)?)/g, (m) =>
          rand() < 0.05 ? `:${hostile[Math.floor(rand() * hostile.length)]}` : m,
        );
      }
      let value: unknown;
      try {
        value = decodeReply(s).value;
      } catch {
        continue;
      }
      const r = parseAntminer({ [cmd]: value });
      assertFinite(r, `mutation ${i}`);
      for (const b of r.boards) {
        assertTemp(b.temp_board_c, `mutation ${i}`);
        assertTemp(b.temp_chip_c, `mutation ${i}`);
      }
      parsed++;
    }
    assert.ok(parsed > 300);
  });
});

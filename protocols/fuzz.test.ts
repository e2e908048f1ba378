/**
 * Property-based tests (fast-check) over the decoder and its repairs, every family parser, and the plausibility
 * check: arbitrary bytes, mutated real replies (protocols/fixtures/real) and the hostile corpus
 * (testing/hostile/) never throw anything but a named RtError, never yield a figure outside the physical bounds
 * once checked, and never hang (each case is timed). Runs are bounded to keep the file under ~10 s.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtError } from '../lib/errors.js';
import { hostileCorpus } from '../testing/hostile.js';
import { parseAntminer } from './antminer/parse.js';
import { parseAvalon } from './avalon/parse.js';
import { parseBitaxe } from './bitaxe/parse.js';
import { parseBraiins } from './braiins/parse.js';
import { parseCgminer } from './cgminer/parse.js';
import { fixturesDir, readFixture } from './fixtures.js';
import { parseInnosilicon } from './innosilicon/parse.js';
import { decodeReply } from './kit/decode.js';
import { parseLuxos } from './luxos/parse.js';
import { BOUNDS, checkPlausibility } from './plausibility.js';
import type { MinerReading } from './sample.js';
import { parseVnish } from './vnish/parse.js';
import { parseWhatsminer } from './whatsminer/parse.js';

const SLOW_MS = 2000;

/** Run `fn`; only an RtError may escape, and it must come back within SLOW_MS. */
function named<T>(what: string, fn: () => T): T | RtError {
  const t0 = performance.now();
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof RtError))
      throw new Error(`${what}: threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.match(err.code, /^RT_ERR_[A-Z_]+$/);
    return err;
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < SLOW_MS, `${what}: took ${ms.toFixed(0)} ms`);
  }
}

/** Every figure of a checked reading within its physical bound (an independent walk, by unit suffix). */
function assertInBounds(r: MinerReading, what: string): void {
  const bound = (key: string) => {
    if (key.endsWith('_hs')) return BOUNDS.hashrate_hs;
    if (key.endsWith('_w')) return BOUNDS.power_w;
    if (key.endsWith('_c')) return BOUNDS.temp_c;
    if (key === 'rpm') return BOUNDS.fan_rpm;
    if (key === 'uptime_s') return BOUNDS.uptime_s;
    if (key === 'difficulty_accepted') return BOUNDS.difficulty;
    if (key === 'chips' || key === 'chips_expected') return BOUNDS.chips;
    if (key === 'frequency_mhz') return BOUNDS.frequency_mhz;
    if (/^(shares_|hw_errors|accepted|rejected|stale)/.test(key)) return BOUNDS.count;
    return null;
  };
  const visit = (o: Record<string, unknown>, path: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (k === 'index' || k === 'raw' || k === 'identity') continue;
      const b = bound(k);
      if (b && v !== null) {
        assert.ok(
          typeof v === 'number' && Number.isFinite(v) && v >= b.min && v <= b.max,
          `${what}: ${path}${k} = ${String(v)}`,
        );
      }
    }
  };
  visit(r as unknown as Record<string, unknown>, '');
  for (const [i, b] of r.boards.entries()) visit(b as unknown as Record<string, unknown>, `boards[${i}].`);
  for (const [i, f] of r.fans.entries()) visit(f as unknown as Record<string, unknown>, `fans[${i}].`);
  for (const [i, p] of r.pools.entries()) visit(p as unknown as Record<string, unknown>, `pools[${i}].`);
}

type Parser = (parts: Record<string, unknown>) => MinerReading;
const PARSERS: Record<string, Parser> = {
  antminer: (p) => parseAntminer(p),
  avalon: (p) => parseAvalon(p),
  braiins: (p) => parseBraiins(p),
  cgminer: (p) => parseCgminer(p),
  innosilicon: (p) => parseInnosilicon(p),
  luxos: (p) => parseLuxos(p),
  vnish: (p) => parseVnish(p),
  whatsminer: (p) => parseWhatsminer(p as never),
  bitaxe: (p) => parseBitaxe(p['system-info'] ?? p['info']),
};

/** Real captures grouped by unit: `antminer_s19pro_stats_2.txt` → antminer / s19pro / stats (first capture wins). */
function fixtureUnits(): Array<{ family: string; unit: string; parts: Record<string, unknown> }> {
  const units = new Map<string, { family: string; unit: string; parts: Record<string, unknown> }>();
  for (const file of readdirSync(fixturesDir())) {
    const m = /^([a-z]+)_([a-z0-9]+)_([a-z-]+)(?:_\d+)?\.txt$/.exec(file);
    if (!m || !PARSERS[m[1]!]) continue;
    const [, family, unit, cmd] = m as unknown as [string, string, string, string];
    let value: unknown;
    try {
      value = decodeReply(readFixture(file)).value;
    } catch {
      continue;
    }
    const key = `${family}/${unit}`;
    const u = units.get(key) ?? { family, unit, parts: {} };
    if (!(cmd in u.parts)) u.parts[cmd] = value;
    units.set(key, u);
  }
  return [...units.values()];
}

/** Values no real miner sends in a numeric field. */
const hostileNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(1e30, 1e39, -1, -1e30, 1.23e38, Number.MAX_VALUE, 2 ** 64, 0, -0),
  fc.constantFrom('nan', 'inf', '-inf', 'NaN', '1e999', '12abc', '', '  ', '0x10', '1e30'),
  fc.integer(),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((b) => Number(b)),
);

/** Replace a random subset of numeric (and numeric-looking string) leaves, deterministically from `pick`. */
function mutate(value: unknown, pick: (path: string) => unknown | undefined, path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => mutate(v, pick, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mutate(v, pick, `${path}.${k}`);
    return out;
  }
  if (typeof value === 'number' || (typeof value === 'string' && /^-?[\d.]+$/.test(value))) {
    const r = pick(path);
    return r === undefined ? value : r;
  }
  return value;
}

describe('fuzz: decoder', () => {
  it('arbitrary text and bytes: a value or RT_ERR_PROTO_DECODE / MINER_PROCESS_DOWN, quickly', () => {
    const check = (input: string | Buffer) => {
      const out = named('decodeReply', () => decodeReply(input));
      if (out instanceof RtError) assert.match(out.code, /^RT_ERR_PROTO_(DECODE|MINER_PROCESS_DOWN)$/);
    };
    fc.assert(fc.property(fc.string({ maxLength: 400 }), check), { numRuns: 400 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(Buffer.from(b))),
      { numRuns: 300, endOnFailure: true },
    );
    // JSON-ish alphabets reach the repairs far more often than random text.
    const jsonish = fc.string({
      unit: fc.constantFrom(...'{}[],:"\\ \n\tnaifNI0123456789.-eE\u0000'.split('')),
      maxLength: 300,
    });
    fc.assert(fc.property(jsonish, check), { numRuns: 600 });
  });

  it('mutated real replies (cut, spliced, bytes flipped) decode or fail by name', () => {
    const files = readdirSync(fixturesDir()).filter((f) => f.endsWith('.txt'));
    const replies = files.map((f) => readFixture(f));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: replies.length - 1 }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('flip', 'cut', 'dup', 'insert'),
          ),
          {
            maxLength: 6,
          },
        ),
        (i, edits) => {
          let b = replies[i]!;
          for (const [pos, byte, op] of edits) {
            const at = b.length ? pos % b.length : 0;
            if (op === 'flip') {
              b = Buffer.from(b);
              b[at] = byte;
            } else if (op === 'cut') b = b.subarray(0, at);
            else if (op === 'dup')
              b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 40), b.subarray(at)]);
            else b = Buffer.concat([b.subarray(0, at), Buffer.from('NaN,1e999,{[}'), b.subarray(at)]);
          }
          named(`decode ${files[i]}`, () => decodeReply(b));
        },
      ),
      { numRuns: 400, endOnFailure: true },
    );
  });

  it('the hostile corpus and 100k-deep nesting fail by name or decode', () => {
    for (const [name, bytes] of hostileCorpus()) named(`corpus ${name}`, () => decodeReply(bytes));
    for (const deep of ['['.repeat(100_000), '{"a":'.repeat(100_000), `${'[{"a":'.repeat(50_000)}1`]) {
      const out = named('deep', () => decodeReply(deep));
      assert.ok(out instanceof RtError && out.code === 'RT_ERR_PROTO_DECODE');
    }
  });
});

describe('fuzz: parsers + plausibility', () => {
  const units = fixtureUnits();
  it(`${units.length} real units across ${new Set(units.map((u) => u.family)).size} families, numbers replaced by hostile values`, () => {
    assert.ok(units.length >= 15, `${units.length} units`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: units.length - 1 }),
        fc.dictionary(fc.string({ maxLength: 3 }), hostileNumber, { maxKeys: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (i, table, share) => {
          const u = units[i]!;
          const vals = Object.values(table);
          let k = 0;
          // Replace about `share` of the numeric leaves, cycling through the drawn hostile values.
          const parts = mutate(u.parts, (path) => {
            if (vals.length === 0) return undefined;
            let h = 0;
            for (let c = 0; c < path.length; c++) h = (h * 31 + path.charCodeAt(c)) >>> 0;
            if ((h % 1000) / 1000 >= share) return undefined;
            return vals[k++ % vals.length];
          }) as Record<string, unknown>;
          const out = named(`${u.family}/${u.unit}`, () => PARSERS[u.family]!(parts));
          if (out instanceof RtError) return;
          const checked = named('checkPlausibility', () => checkPlausibility(out));
          assertInBounds(out, `${u.family}/${u.unit}`);
          if (!(checked instanceof RtError) && checked.flagged.length > 0)
            assert.notEqual(out.support, 'full');
        },
      ),
      { numRuns: 500, endOnFailure: true },
    );
  });

  it('arbitrary JSON shapes in place of every reply never crash a parser', () => {
    const families = Object.keys(PARSERS);
    fc.assert(
      fc.property(
        fc.constantFrom(...families),
        fc.dictionary(
          fc.constantFrom(
            'version',
            'stats',
            'summary',
            'pools',
            'devs',
            'temps',
            'fans',
            'devdetails',
            'estats',
            'power',
            'tunerstatus',
            'status',
            'system-info',
          ),
          fc.jsonValue({ maxDepth: 4 }),
        ),
        (family, parts) => {
          const out = named(family, () => PARSERS[family]!(parts));
          if (out instanceof RtError) return;
          named('checkPlausibility', () => checkPlausibility(out));
          assertInBounds(out, family);
        },
      ),
      { numRuns: 400, endOnFailure: true },
    );
  });
});

describe('fuzz finds: regressions', () => {
  it('a firmware count of 1e30 does not make a parser loop (Whatsminer Error Code Count)', () => {
    const summary = { STATUS: [{ STATUS: 'S' }], SUMMARY: [{ Elapsed: 10, 'Error Code Count': 1e30 }] };
    const out = named('whatsminer', () => parseWhatsminer({ summary } as never));
    assert.ok(!(out instanceof RtError));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtError } from '../../lib/errors.js';
import { ProtoErrors } from '../errors.js';
import { fixtureIndex, readFixture } from '../fixtures.js';
import { decodeReply, REPAIR } from './decode.js';

function decodes(input: string) {
  return decodeReply(input);
}

describe('decodeReply: clean replies', () => {
  it('parses strict JSON with no repairs and strips the NUL and what follows it', () => {
    const d = decodeReply(Buffer.from('{"STATUS":[{"STATUS":"S"}],"id":1}\0\n'));
    assert.deepEqual(d, { value: { STATUS: [{ STATUS: 'S' }], id: 1 }, repairs: [], format: 'json' });
  });

  it('keeps several trailing NULs out', () => {
    assert.deepEqual(decodeReply('{"a":1}\0\0\0').value, { a: 1 });
  });

  it('decodes the plain-text format into the JSON shape (avalon_mini3_version.txt)', () => {
    const d = decodeReply(readFixture('avalon_mini3_version.txt'));
    assert.equal(d.format, 'text');
    const v = d.value as Record<string, Array<Record<string, unknown>>>;
    assert.deepEqual(v['STATUS'], [
      { STATUS: 'S', When: 1742265580, Code: 22, Msg: 'CGMiner versions', Description: 'cgminer 4.11.1' },
    ]);
    assert.equal(v['VERSION']?.[0]?.['PROD'], 'Avalon Mini3');
    assert.equal(v['VERSION']?.[0]?.['CGMiner'], '4.11.1');
    assert.equal(v['VERSION']?.[0]?.['DNA'], '020100008644e532');
  });

  it('decodes joined text replies and escapes', () => {
    const d = decodes(
      'CMD=summary|STATUS=S,Code=11|SUMMARY,Elapsed=5,MHS 5s=1.50|CMD=pools|STATUS=S,Code=7|POOL=0,URL=a\\,b\\|c|',
    );
    assert.deepEqual(d.value, {
      summary: [{ STATUS: [{ STATUS: 'S', Code: 11 }], SUMMARY: [{ Elapsed: 5, 'MHS 5s': '1.50' }] }],
      pools: [{ STATUS: [{ STATUS: 'S', Code: 7 }], POOLS: [{ POOL: 0, URL: 'a,b|c' }] }],
    });
  });
});

describe('decodeReply: named repairs', () => {
  const cases: Array<[string, string, unknown, string[]]> = [
    [
      '}{',
      '{"STATS":[{"Type":"S9"}{"STATS":0}]}',
      { STATS: [{ Type: 'S9' }, { STATS: 0 }] },
      [REPAIR.missingCommaBetweenObjects],
    ],
    [
      'newline between objects',
      '{"P":[{"a":1}\n{"a":2}]}',
      { P: [{ a: 1 }, { a: 2 }] },
      [REPAIR.newlineBetweenObjects],
    ],
    ['[,{', '{"a":[,{"b":1}]}', { a: [{ b: 1 }] }, [REPAIR.leadingCommaInArray]],
    ['trailing commas', '{"a":[1,2,],"b":{"c":1,},}', { a: [1, 2], b: { c: 1 } }, [REPAIR.trailingComma]],
    ["\\'", '{"v":"\\\'2020\\\'"}', { v: "'2020'" }, [REPAIR.invalidEscape]],
    [
      'bare nan/inf',
      '{"a":nan,"b":-nan,"c":inf,"d":[nan]}',
      { a: null, b: null, c: null, d: [null] },
      [REPAIR.bareNanInf],
    ],
    [
      'quoted nan/inf',
      '{"MHS":"nan","T":"inf","u":"Nancy"}',
      { MHS: null, T: null, u: 'Nancy' },
      [REPAIR.quotedNanInf],
    ],
    ['raw control chars', '{"v":"a\nb\tc\u0001"}', { v: 'a\nb\tc\u0001' }, [REPAIR.rawControlChars]],
    ['leading comma', ',"id":1}', { id: 1 }, [REPAIR.leadingComma]],
    ['trailing junk', '{"id":1}"}', { id: 1 }, [REPAIR.trailingJunk]],
    ['""key', '{"a":"x""temp0":5}', { a: 'x', temp0: 5 }, [REPAIR.missingCommaBetweenStrings]],
    ['truncated in a string', '{"P":[{"a":1},{"b":"xy', { P: [{ a: 1 }] }, [REPAIR.truncated]],
    ['truncated after a value', '{"P":[{"a":1},{"b":2', { P: [{ a: 1 }, { b: 2 }] }, [REPAIR.truncated]],
    [
      'several at once',
      '{"STATS":[{"t":"a\nb"}{"x":nan,}]}',
      { STATS: [{ t: 'a\nb' }, { x: null }] },
      [REPAIR.missingCommaBetweenObjects, REPAIR.rawControlChars, REPAIR.trailingComma, REPAIR.bareNanInf],
    ],
  ];
  for (const [name, input, value, repairs] of cases) {
    it(name, () => {
      const d = decodes(input);
      assert.deepEqual(d.value, value);
      assert.deepEqual(d.repairs, repairs);
      assert.equal(d.format, 'json');
    });
  }

  it('does not touch "}{" inside a string value', () => {
    const d = decodes('{"x":"{X5=1}{X6=2}"}');
    assert.deepEqual(d, { value: { x: '{X5=1}{X6=2}' }, repairs: [], format: 'json' });
  });
});

describe('decodeReply: failures are named', () => {
  it('the proxy line means the miner process is down', () => {
    assert.throws(
      () => decodes('Socket connect failed: Connection refused\n'),
      (e) => ProtoErrors.minerDown.is(e),
    );
  });
  for (const bad of ['', '\0', 'hello', '<html>401</html>', '123', '"str"', 'null', '}{']) {
    it(`rejects ${JSON.stringify(bad)} with RT_ERR_PROTO_DECODE`, () => {
      assert.throws(
        () => decodes(bad),
        (e) => ProtoErrors.decode.is(e),
      );
    });
  }
  it('a reply cut right after its start decodes to an empty object marked truncated', () => {
    assert.deepEqual(decodes('{"STATUS":'), { value: {}, repairs: [REPAIR.truncated], format: 'json' });
  });
  it('survives hostile nesting', () => {
    assert.throws(
      () => decodes('['.repeat(200_000)),
      (e) => e instanceof RtError,
    );
    const deep = `${'['.repeat(50_000)}"nan"${']'.repeat(50_000)}`;
    try {
      decodes(deep);
    } catch (e) {
      assert.ok(e instanceof RtError);
    }
  });
});

describe('decodeReply: fixtures', () => {
  it('every fixture decodes (or fails with a named error), the malformed ones with the expected repair', () => {
    const expected: Record<string, string[]> = {
      'antminer_s9k_version.txt': [REPAIR.trailingJunk],
      'whatsminer_m20s_summary_2.txt': [REPAIR.invalidEscape],
    };
    for (const e of fixtureIndex()) {
      const d = decodeReply(readFixture(e.file));
      if (expected[e.file]) assert.deepEqual(d.repairs, expected[e.file], e.file);
      else if (e.notes.includes('`}{` between objects')) {
        assert.deepEqual(d.repairs, [REPAIR.missingCommaBetweenObjects], e.file);
      } else if (e.notes.includes('strict JSON: yes')) assert.deepEqual(d.repairs, [], e.file);
    }
  });
});

describe('decodeReply: the single-pass paths', () => {
  /** The repair as the slow path did it: strict parse (fails), then the named repair, then parse. */
  const pyasicStyle = (text: string) => JSON.parse(text.replace(/\}\{/g, '},{'));

  it('a real }{ reply is mended before its first parse, to the same value (antminer_s9_stats.txt, vnish_s9_stats.txt)', () => {
    for (const file of ['antminer_s9_stats.txt', 'vnish_s9_stats.txt', 'antminer_l3plus_stats.txt']) {
      const bytes = readFixture(file);
      const d = decodeReply(bytes);
      assert.deepEqual(d.repairs, [REPAIR.missingCommaBetweenObjects], file);
      const text = bytes.toString('utf8').split('\0')[0]!.trim();
      assert.deepEqual(d.value, pyasicStyle(text), file);
      assert.equal((d.value as { STATS: unknown[] }).STATS.length, 2, file);
    }
  });

  it('}{ both inside a string and between objects: only the one outside is mended', () => {
    const d = decodes('{"STATS":[{"Type":"a}{b"}{"STATS":0}],"id":1}');
    assert.deepEqual(d.value, { STATS: [{ Type: 'a}{b' }, { STATS: 0 }], id: 1 });
    assert.deepEqual(d.repairs, [REPAIR.missingCommaBetweenObjects]);
  });

  it('}{ plus a second defect still goes through the other repairs (bare nan after the mend)', () => {
    const d = decodes('{"STATS":[{"a":1}{"b":nan}],"id":1}');
    assert.deepEqual(d.value, { STATS: [{ a: 1 }, { b: null }], id: 1 });
    assert.deepEqual(d.repairs, [REPAIR.missingCommaBetweenObjects, REPAIR.bareNanInf]);
  });

  it('a real reply with its trailing NUL decodes as sent (avalon_1166pro_version.txt)', () => {
    const bytes = readFixture('avalon_1166pro_version.txt');
    assert.ok(bytes.includes(0));
    const d = decodeReply(bytes);
    assert.deepEqual(d.repairs, []);
    assert.equal((d.value as { STATUS: { STATUS: string }[] }).STATUS[0]?.STATUS, 'S');
  });

  it('quoted nan/inf in any case become null; strings that only start like them stay', () => {
    const d = decodes(
      '{"a":"nan","b":" -Inf ","c":"Infinity","d":"NaN","e":"info","f":"nano","g":"in","h":"-1.5"}',
    );
    assert.deepEqual(d.value, {
      a: null,
      b: null,
      c: null,
      d: null,
      e: 'info',
      f: 'nano',
      g: 'in',
      h: '-1.5',
    });
    assert.deepEqual(d.repairs, [REPAIR.quotedNanInf]);
  });

  it('nesting past the limit is refused when the reply parses, with or without }{, and at the limit it is read', () => {
    const deep = (n: number, mid = '1') => `${'['.repeat(n)}${mid}${']'.repeat(n)}`;
    const refused = (input: string) =>
      assert.throws(
        () => decodes(input),
        (e) =>
          ProtoErrors.decode.is(e) &&
          /nested deeper than 64 levels \(at offset \d+\)/.test((e as Error).message),
      );
    refused(deep(65));
    refused(`{"a":${deep(64)}}`);
    refused(deep(70, '{"a":1}{"b":2}'));
    assert.deepEqual(decodes(deep(64)).repairs, []);
  });
});

describe('decodeReply: fuzz', () => {
  // Deterministic PRNG so a failure is reproducible.
  let seed = 0x2f6b_4c1d;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const onlyRtError = (input: Buffer | string) => {
    try {
      decodeReply(input);
    } catch (e) {
      assert.ok(
        e instanceof RtError,
        `non-RtError ${String(e)} for ${JSON.stringify(String(input).slice(0, 80))}`,
      );
    }
  };

  it('random bytes never throw anything but RtError', () => {
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 200);
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(rand() * 256);
      if (len > 0 && rand() < 0.5) buf[0] = 0x7b; // '{'
      onlyRtError(buf);
    }
  });

  it('mutated and cut fixtures never throw anything but RtError', () => {
    const files = fixtureIndex().map((e) => readFixture(e.file));
    const alphabet = '{}[],:"\\\0\n nan';
    for (let i = 0; i < 1500; i++) {
      const src = files[Math.floor(rand() * files.length)]!.toString('utf8');
      let s = src.slice(0, Math.floor(rand() * src.length) + 1);
      const edits = Math.floor(rand() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rand() * s.length);
        const ch = alphabet[Math.floor(rand() * alphabet.length)]!;
        s = rand() < 0.5 ? s.slice(0, at) + ch + s.slice(at + 1) : s.slice(0, at) + ch + s.slice(at);
      }
      onlyRtError(s);
    }
  });
});

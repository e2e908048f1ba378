import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RtError } from '../../lib/errors.js';
import { Secret } from '../../lib/secret.js';
import { fixtureIndex, readFixture } from '../fixtures.js';
import { decodeWhatsminer, type Json, replyError } from './decode.js';
import {
  identifyWhatsminer,
  parseErrorCodes,
  parsePsu,
  parseReply,
  parseWhatsminer,
  type WhatsminerCommand,
} from './parse.js';
import { decryptReply, deriveSession, parseTokenChallenge } from './token.js';

const here = dirname(fileURLToPath(import.meta.url));
const expected = (name: string): unknown =>
  JSON.parse(readFileSync(join(here, 'testdata', 'expected', `${name}.json`), 'utf8'));
const body = (file: string): Json => decodeWhatsminer(readFixture(file)).value;
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RtError) return err.code;
    throw err;
  }
  return 'no error';
};

/**
 * Every whatsminer file in protocols/fixtures/real/INDEX.md and what it must become: a reading (checked against a
 * hand-written expected file where one exists, else spot checks) or a named outcome.
 */
type Outcome =
  | { cmd: WhatsminerCommand; expected?: string; check?: (r: ReturnType<typeof parseReply>) => void }
  | { outcome: (bytes: Buffer) => void };

const OUTCOMES: Record<string, Outcome> = {
  'whatsminer_m31s_summary.txt': { cmd: 'summary', expected: 'whatsminer_m31s_summary' },
  'whatsminer_m30s_summary.txt': { cmd: 'summary', expected: 'whatsminer_m30s_summary' },
  'whatsminer_m20s_summary_2.txt': { cmd: 'summary', expected: 'whatsminer_m20s_summary_2' },
  'whatsminer_m31s_edevs.txt': { cmd: 'edevs', expected: 'whatsminer_m31s_edevs' },
  'whatsminer_m20s_devs.txt': { cmd: 'devs', expected: 'whatsminer_m20s_devs' },
  'whatsminer_m31s_pools.txt': { cmd: 'pools', expected: 'whatsminer_m31s_pools' },
  'whatsminer_m3_pools.txt': { cmd: 'pools', expected: 'whatsminer_m3_pools' },
  'whatsminer_m31s_status.txt': { cmd: 'status', expected: 'whatsminer_m31s_status' },
  'whatsminer_m3_stats.txt': { cmd: 'stats', expected: 'whatsminer_m3_stats' },
  'whatsminer_m3_summary.txt': {
    cmd: 'summary',
    check: (r) => {
      // Oldest build: no Power, no Factory GHS, no Env Temp, no HS RT.
      assert.equal(r.hashrate_hs, 12286819780000);
      assert.equal(r.hashrate_avg_hs, 11763615450000);
      assert.equal(r.power_w, null);
      assert.equal(r.power_source, null);
      assert.equal(r.hashrate_nominal_hs, null);
      assert.equal(r.temp_inlet_c, null);
      assert.equal(r.temp_board_max_c, 85.5);
      assert.deepEqual(r.fans, [
        { index: 0, rpm: 5730 },
        { index: 1, rpm: 5880 },
      ]);
      assert.equal(r.identity.firmware, 'cgminer 4.9.2');
      assert.equal(r.state, 'mining');
    },
  },
  'whatsminer_m20s_summary.txt': {
    cmd: 'summary',
    check: (r) => {
      assert.equal(r.hashrate_hs, 65371302780000);
      assert.equal(r.uptime_s, 97139);
      assert.equal(r.power_w, null, 'this build reports no Power field');
      assert.equal(r.shares_stale, 27);
      assert.deepEqual(r.notes, [], 'Error Code Count 0');
    },
  },
  'whatsminer_m20s_pools.txt': {
    cmd: 'pools',
    check: (r) => {
      assert.equal(r.pools.length, 2);
      assert.equal(r.pools[0]?.active, true);
      assert.equal(r.pools[0]?.accepted, 33825);
      assert.equal(r.pools[1]?.user, 'xxxx.yyyy');
    },
  },
  'whatsminer_m30s_edevs.txt': {
    cmd: 'edevs',
    check: (r) => {
      assert.deepEqual(
        r.boards.map((b) => [b.index, b.hashrate_hs, b.chips, b.temp_chip_c]),
        [
          [0, 29637403560000, 156, 99.79],
          [1, 27335216820000, 156, 89.14],
          [2, 26400703960000, 156, 90.64],
        ],
      );
    },
  },
  'whatsminer_m30s_pools.txt': {
    cmd: 'pools',
    check: (r) => {
      assert.deepEqual(
        r.pools.map((p) => [p.index, p.active]),
        [
          [0, true],
          [1, false],
          [2, false],
        ],
      );
    },
  },
  'whatsminer_m20s_stats.txt': {
    cmd: 'stats',
    check: (r) => {
      // No ok_chips on this build: chips unknown, chip_num is the expected count.
      assert.deepEqual(
        r.boards.map((b) => [b.index, b.temp_board_c, b.frequency_mhz, b.chips, b.chips_expected]),
        [
          [0, 75, 656, null, 105],
          [1, 73, 636, null, 105],
          [2, 72.5, 616, null, 105],
        ],
      );
    },
  },
  'whatsminer_m30s_pools-summary-edevs.txt': {
    // A "cmd" key on a cgminer 4.9.2 build: Code 24, the driver then retries with "command".
    outcome: (bytes) => {
      const err = replyError('pools+summary+edevs', decodeWhatsminer(bytes).value, 'rig', 'cmd');
      assert.equal(err?.code, 'RT_ERR_WHATSMINER_WRONG_COMMAND_KEY');
      assert.equal(
        codeOf(() => parseReply('summary', bytes)),
        'RT_ERR_WHATSMINER_WRONG_COMMAND_KEY',
      );
    },
  },
  'whatsminer_unknown_get-token.txt': {
    outcome: (bytes) => {
      assert.deepEqual(parseTokenChallenge(decodeWhatsminer(bytes).value), {
        time: '6915',
        salt: 'BQ5hoXV9',
        newsalt: 'a5TtWui2',
      });
    },
  },
  'whatsminer_unknown_reboot-enc.txt': {
    // Plaintext error to an encrypted write: Code 23 "enc json load err".
    outcome: (bytes) => {
      const value = decodeWhatsminer(bytes).value;
      const session = deriveSession(new Secret('admin'), {
        time: '1',
        salt: 'BQ5hoXV9',
        newsalt: 'a5TtWui2',
      });
      const opened = decryptReply(session, value);
      const err = replyError('reboot', opened, 'rig', 'cmd');
      assert.equal(err?.code, 'RT_ERR_WHATSMINER_REQUEST_REJECTED');
      assert.match(err?.message ?? '', /enc json load err/);
    },
  },
};

describe('whatsminer fixtures (protocols/fixtures/real)', {}, () => {
  it('covers every whatsminer file listed in INDEX.md', () => {
    const listed = fixtureIndex()
      .filter((e) => e.family === 'whatsminer')
      .map((e) => e.file)
      .sort();
    assert.equal(listed.length, 18);
    assert.deepEqual(listed, Object.keys(OUTCOMES).sort());
  });

  for (const [file, outcome] of Object.entries(OUTCOMES)) {
    it(file, () => {
      const bytes = readFixture(file);
      if ('outcome' in outcome) {
        outcome.outcome(bytes);
        return;
      }
      const reading = parseReply(outcome.cmd, bytes);
      if (outcome.expected) assert.deepEqual(reading, expected(outcome.expected));
      outcome.check?.(reading);
    });
  }

  it('only the M20S newer-firmware summary needs a repair', () => {
    for (const file of Object.keys(OUTCOMES)) {
      const { repairs } = decodeWhatsminer(readFixture(file));
      assert.deepEqual(repairs, file === 'whatsminer_m20s_summary_2.txt' ? ['invalid-escape'] : []);
    }
  });

  it('joins summary + edevs + pools + status into one reading', () => {
    const r = parseWhatsminer({
      summary: body('whatsminer_m31s_summary.txt'),
      devs: body('whatsminer_m31s_edevs.txt'),
      pools: body('whatsminer_m31s_pools.txt'),
    });
    assert.equal(r.hashrate_hs, 76690808440000, 'summary HS RT wins over the board sum');
    assert.equal(r.boards.length, 3);
    assert.equal(r.pools.length, 3);
    assert.equal(r.state, 'mining');
    // whatsminer_m31s_status.txt says "btmineroff":"true" while the summary shows `HS RT` 76690808.44 MH/s and
    // `Power_RT` 3552: the contradiction is noted and the observed figures decide the state.
    const off = parseWhatsminer({
      summary: body('whatsminer_m31s_summary.txt'),
      status: body('whatsminer_m31s_status.txt'),
    });
    assert.equal(off.state, 'mining');
    assert.equal(off.state_inferred, true);
    assert.ok(
      off.notes.some((n) =>
        /btmineroff\/mineroff true\) but the summary shows 76\.69 TH\/s and 3552 W/.test(n),
      ),
      off.notes.join('; '),
    );
    assert.equal(off.identity.firmware, '20201202.22.REL', 'summary build string is kept');
  });

  it('stats fill what devs did not give, by board index', () => {
    const r = parseWhatsminer({
      devs: body('whatsminer_m20s_devs.txt'),
      stats: body('whatsminer_m20s_stats.txt'),
    });
    assert.deepEqual(
      r.boards.map((b) => [b.index, b.temp_board_c, b.frequency_mhz, b.chips, b.chips_expected]),
      [
        [0, 71.5, 617, 111, 105],
        [1, 68.5, 632, 111, 105],
        [2, 72, 619, 111, 105],
      ],
    );
  });
});

// The replies below are CONSTRUCTED from docs/protocols.md, "## Whatsminer"/docs/protocols.md, "## Whatsminer" (no real capture of these commands is
// in the fixtures): field names and shapes as documented, values invented.
const btminer = (code: number, msg: Json, status = 'S'): Json => ({
  STATUS: status,
  When: 1700000000,
  Code: code,
  Msg: msg,
  Description: '',
});

describe('whatsminer replies constructed from the API doc', () => {
  it('get_version → firmware build (constructed)', () => {
    const v = btminer(131, { api_ver: '2.0.5', fw_ver: '20230803.11.REL', platform: 'H616' });
    const r = parseWhatsminer({ version: v, summary: body('whatsminer_m30s_summary.txt') });
    assert.equal(r.identity.firmware, '20230803.11.REL', 'get_version wins over the summary copy');
    assert.deepEqual(identifyWhatsminer(v), {
      model: null,
      firmware: '20230803.11.REL',
      apiVersion: '2.0.5',
    });
    const v1 = btminer(131, { api_ver: 'whatsminer v1.4.0', fw_ver: '20220919.12.REL' });
    assert.equal(identifyWhatsminer(v1)?.apiVersion, '1.4.0');
  });

  it('get_psu → PsuInfo, fan speed as a number (constructed)', () => {
    const psu = btminer(131, {
      name: 'P21',
      model: 'P21-12-3600-E',
      hw_version: '0x0a',
      sw_version: '0x12',
      fan_speed: '6240',
    });
    assert.deepEqual(parsePsu(psu), {
      name: 'P21',
      model: 'P21-12-3600-E',
      hw_version: '0x0a',
      sw_version: '0x12',
      fan_rpm: 6240,
    });
  });

  it('get_miner_info → MAC, hostname, serial (constructed)', () => {
    const info = btminer(131, {
      hostname: 'WhatsMiner',
      mac: 'c4:11:04:aa:bb:cc',
      ledstat: 'auto',
      minersn: 'ZYXW1',
    });
    const r = parseReply('get_miner_info', JSON.stringify(info));
    assert.equal(r.identity.mac, 'c4:11:04:aa:bb:cc');
    assert.equal(r.identity.hostname, 'WhatsMiner');
    assert.equal(r.identity.serial, 'ZYXW1');
  });

  it('get_error_code, including the API 2.0.4 list-shaped-like-object form (constructed)', () => {
    const good = btminer(131, {
      error_code: [{ '110': '2021-02-01 12:00:01' }, { '2010': '2021-02-01 12:00:02' }],
    });
    assert.deepEqual(parseErrorCodes(good), ['110', '2010']);
    const broken =
      '{"STATUS":"S","When":1700000000,"Code":131,"Msg":{"error_code":["110":"2021-02-01 12:00:01","2010":"2021-02-01 12:00:02"]},"Description":""}';
    const r = parseReply('get_error_code', broken);
    assert.deepEqual(r.repairs, ['error-code-list-as-object']);
    assert.deepEqual(r.notes, ['miner reports error codes: 110, 2010']);
    assert.deepEqual(parseErrorCodes(btminer(131, { error_code: [] })), []);
  });

  it('devdetails → model from Driver "bitmicro" rows (constructed)', () => {
    const d = {
      STATUS: [{ STATUS: 'S', When: 1, Code: 69, Msg: 'Device Details', Description: 'btminer' }],
      DEVDETAILS: [{ DEVDETAILS: 0, Name: 'SM', ID: 0, Driver: 'bitmicro', Kernel: '', Model: 'M30S+_VE40' }],
      id: 1,
    };
    assert.equal(parseReply('devdetails', JSON.stringify(d)).identity.model, 'Whatsminer M30S+ VE40');
    assert.deepEqual(identifyWhatsminer(d), {
      model: 'Whatsminer M30S+ VE40',
      firmware: null,
      apiVersion: null,
    });
  });

  it('status v2: mineroff "true" → sleeping, hash_percent < 100 → curtailed (constructed)', () => {
    const off = btminer(131, { mineroff: 'true', mineroff_reason: '', FirmwareVersion: "'20230803.11.REL'" });
    const r = parseReply('status', JSON.stringify(off));
    assert.equal(r.state, 'sleeping');
    assert.equal(r.identity.firmware, '20230803.11.REL');
    const reduced = btminer(131, { mineroff: 'false', power_mode: 'Normal', hash_percent: '80' });
    assert.equal(
      parseWhatsminer({ summary: body('whatsminer_m30s_summary.txt'), status: reduced }).state,
      'curtailed',
    );
  });

  it('Power -1 is unknown, Upfreq Complete 0 is ramping, Code 10 is no boards (edited fixtures)', () => {
    const s = readFixture('whatsminer_m30s_summary.txt')
      .toString()
      .replace('"Power":3230', '"Power":-1')
      .replace('"Power_RT":3232', '"Power_RT":-1');
    const r = parseReply('summary', s);
    assert.equal(r.power_w, null);
    assert.equal(r.power_source, null);
    const ramp = readFixture('whatsminer_m31s_edevs.txt')
      .toString()
      .replace('"Upfreq Complete":1', '"Upfreq Complete":0');
    assert.equal(parseReply('edevs', ramp).state, 'ramping');
    const none =
      '{"STATUS":[{"STATUS":"E","When":1,"Code":10,"Msg":"No ASCs","Description":"btminer"}],"id":1}';
    const dead = parseReply('devs', none);
    assert.deepEqual(dead.boards, []);
    assert.equal(dead.state, 'error');
    const noPools =
      '{"STATUS":[{"STATUS":"E","When":1,"Code":8,"Msg":"No pools","Description":"btminer"}],"id":1}';
    assert.deepEqual(parseReply('pools', noPools).pools, []);
  });

  it('error replies become named outcomes', () => {
    const cases: [Json, string][] = [
      [btminer(14, 'invalid cmd', 'E'), 'RT_ERR_WHATSMINER_UNKNOWN_COMMAND'],
      [btminer(23, 'invalid JSON', 'E'), 'RT_ERR_WHATSMINER_REQUEST_REJECTED'],
      [btminer(45, 'permission denied', 'E'), 'RT_ERR_PROTO_ACCESS_DENIED'],
      [btminer(132, 'command error', 'E'), 'RT_ERR_PROTO_STATUS'],
      [btminer(135, 'check token error', 'E'), 'RT_ERR_PROTO_AUTH'],
      [btminer(136, 'token over max times', 'E'), 'RT_ERR_WHATSMINER_TOKEN_LIMIT'],
      [btminer(137, 'base64 decode error', 'E'), 'RT_ERR_WHATSMINER_ENVELOPE'],
    ];
    for (const [reply, code] of cases) {
      assert.equal(replyError('status', reply, 'rig')?.code, code);
      assert.equal(
        codeOf(() => parseReply('status', JSON.stringify(reply))),
        code,
      );
    }
    assert.equal(replyError('get_token', btminer(134, { time: '1', salt: 'a', newsalt: 'b' }), 'rig'), null);
  });

  it('garbage never crashes: named decode errors', () => {
    assert.equal(
      codeOf(() => parseReply('summary', 'Socket connect failed: Connection refused\n')),
      'RT_ERR_PROTO_MINER_PROCESS_DOWN',
    );
    assert.equal(
      codeOf(() => parseReply('summary', '<html>busy</html>')),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => parseReply('summary', '')),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => parseReply('summary', '{"id":1}')),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => parseReply('summary', '[1,2,3]')),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => parseReply('summary', '{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[]}')),
      'RT_ERR_PROTO_DECODE',
    );
    // Wrong types inside a well-formed reply give nulls, not NaN.
    const odd = parseReply(
      'summary',
      '{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{"MHS av":"abc","Elapsed":null,"Temperature":"","Fan Speed In":-1}]}',
    );
    assert.equal(odd.hashrate_avg_hs, null);
    assert.equal(odd.uptime_s, null);
    assert.equal(odd.temp_board_max_c, null);
    assert.deepEqual(odd.fans, [{ index: 0, rpm: null }]);
  });

  it('identifyWhatsminer recognises btminer replies and rejects others', () => {
    assert.deepEqual(identifyWhatsminer(body('whatsminer_m20s_summary_2.txt')), {
      model: null,
      firmware: '20200917.22.REL',
      apiVersion: null,
    });
    assert.deepEqual(identifyWhatsminer(body('whatsminer_m31s_status.txt')), {
      model: null,
      firmware: '20210109.22.REL',
      apiVersion: '1.3',
    });
    assert.notEqual(identifyWhatsminer(body('whatsminer_m3_summary.txt')), null);
    const stock = {
      STATUS: [{ STATUS: 'S', When: 1, Code: 11, Msg: 'Summary', Description: 'cgminer 4.11.1' }],
      SUMMARY: [{ Elapsed: 1, 'MHS av': 1 }],
    };
    assert.equal(identifyWhatsminer(stock), null);
    assert.equal(identifyWhatsminer('x'), null);
    assert.equal(identifyWhatsminer(null), null);
  });
});

/** API v3 parsing, tested on CONSTRUCTED replies (testdata/v3-constructed.ts): no real v3 capture exists. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtError } from '../../lib/errors.js';
import { emptyBoard, emptyReading } from '../sample.js';
import { encodeV3Frame, takeV3Frame, v3Request } from './frame.js';
import { identifyWhatsminer } from './parse.js';
import { parseWhatsminerV3, v3Msg } from './parse-v3.js';
import { V3_DEVICE_INFO, V3_EDEVS, V3_POOLS, V3_SUMMARY } from './testdata/v3-constructed.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof RtError ? e.code : 'other';
  }
  return 'none';
};

describe('whatsminer API v3 (constructed replies)', () => {
  it('summary + edevs + pools + device info → exact reading', () => {
    const r = parseWhatsminerV3({
      summary: V3_SUMMARY,
      edevs: V3_EDEVS,
      pools: V3_POOLS,
      deviceInfo: V3_DEVICE_INFO,
    });
    const want = emptyReading('whatsminer');
    want.identity = {
      family: 'whatsminer',
      make: 'MicroBT',
      model: 'Whatsminer M60S VK40',
      firmware: '20251209.12.REL',
      mac: 'c4:11:04:12:34:56',
      serial: 'HTM60SVK40-000001',
      hostname: 'WhatsMiner-M60S',
    };
    want.state = 'mining';
    want.hashrate_hs = 171_230_000_000_000; // 171.23 TH/s
    want.hashrate_avg_hs = 170_550_000_000_000;
    want.hashrate_nominal_hs = 172_000_000_000_000;
    want.temp_board_max_c = 63.25;
    want.temp_chip_max_c = 79.5;
    want.temp_inlet_c = 24.5;
    want.power_w = 3156;
    want.power_source = 'miner';
    want.uptime_s = 86400;
    want.fans = [
      { index: 0, rpm: 4020 },
      { index: 1, rpm: 4080 },
    ];
    const board = (i: number, hs: number, nominal: number, chip: number, chips: number, f: number) => ({
      ...emptyBoard(i),
      hashrate_hs: hs,
      hashrate_nominal_hs: nominal,
      temp_chip_c: chip,
      chips,
      frequency_mhz: f,
    });
    want.boards = [
      board(0, 57_100_000_000_000, 57_300_000_000_000, 77, 156, 578),
      board(1, 57_030_000_000_000, 57_300_000_000_000, 79.5, 156, 582),
      board(2, 57_100_000_000_000, 57_400_000_000_000, 78, 155, 580),
    ];
    want.pools = [
      {
        index: 0,
        url: 'stratum+tcp://pool.example:3333',
        user: 'farm.m60s',
        status: 'alive',
        active: true,
        accepted: null,
        rejected: null,
        stale: null,
      },
      {
        index: 1,
        url: 'stratum+tcp://backup.example:3333',
        user: 'farm.m60s',
        status: 'alive',
        active: false,
        accepted: null,
        rejected: null,
        stale: null,
      },
    ];
    assert.deepEqual(r, want);
  });

  it('sentinels and states: negative factory-hash, power -1, up-freq-finish 0', () => {
    const s = structuredClone(V3_SUMMARY);
    s.msg.summary['factory-hash'] = -0.003;
    s.msg.summary['power-realtime'] = -1;
    s.msg.summary['power-5min'] = -1;
    s.msg.summary['up-freq-finish'] = 0;
    const r = parseWhatsminerV3({ summary: s });
    assert.equal(r.hashrate_nominal_hs, null);
    assert.equal(r.power_w, null);
    assert.equal(r.power_source, null);
    assert.equal(r.state, 'ramping');
  });

  it('error replies and garbage are named', () => {
    assert.equal(
      codeOf(() => v3Msg('get.miner.status', { code: 14, msg: 'invalid cmd' })),
      'RT_ERR_WHATSMINER_V3_ERROR',
    );
    assert.equal(
      codeOf(() => v3Msg('x', [1])),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => v3Msg('x', { msg: {} })),
      'RT_ERR_PROTO_DECODE',
    );
    assert.equal(
      codeOf(() => parseWhatsminerV3({ summary: { code: 0, msg: {} } })),
      'RT_ERR_PROTO_DECODE',
    );
  });

  it('identifyWhatsminer reads get.device.info', () => {
    assert.deepEqual(identifyWhatsminer(V3_DEVICE_INFO), {
      model: 'Whatsminer M60S VK40',
      firmware: '20251209.12.REL',
      apiVersion: '3.0.2',
    });
  });

  it('frames: 4-byte little-endian length + JSON, partial and hostile input', () => {
    const f = v3Request('get.miner.status', 'summary');
    const json = '{"cmd":"get.miner.status","param":"summary"}';
    assert.equal(f.readUInt32LE(0), Buffer.byteLength(json));
    assert.equal(f.subarray(4).toString(), json);
    assert.equal(takeV3Frame(f.subarray(0, 3)), null);
    assert.equal(takeV3Frame(f.subarray(0, 10)), null);
    const two = Buffer.concat([encodeV3Frame({ a: 1 }), encodeV3Frame('{"b":2}')]);
    const first = takeV3Frame(two);
    assert.equal(first?.body.toString(), '{"a":1}');
    assert.equal(takeV3Frame(first?.rest ?? Buffer.alloc(0))?.body.toString(), '{"b":2}');
    const hostile = Buffer.alloc(4);
    hostile.writeUInt32LE(0xffffffff, 0);
    assert.equal(
      codeOf(() => takeV3Frame(hostile)),
      'RT_ERR_WHATSMINER_BAD_FRAME',
    );
  });
});

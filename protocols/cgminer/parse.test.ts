import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readFixture } from '../fixtures.js';
import { splitJoinedReply } from '../kit/cgminer-client.js';
import { decodeReply, type PollTarget } from '../kit/index.js';
import { createCgminerDriver } from './driver.js';

const cgminerDriver = createCgminerDriver();

import { parseCgminer, rollingRate } from './parse.js';

// Constructed in the shape of cgminer 4.11.1's replies as printed by api.c (docs/protocols.md, "## cgminer API framing"); there is
// no plain-cgminer capture in protocols/fixtures/real.
const status = (code: number, msg: string, letter = 'S') =>
  `"STATUS":[{"STATUS":"${letter}","When":1700000000,"Code":${code},"Msg":"${msg}","Description":"cgminer 4.11.1"}]`;
const SUMMARY = `{${status(11, 'Summary')},"SUMMARY":[{"Elapsed":975,"MHS av":1234.56,"MHS 5s":1300.00,"MHS 1m":1250.00,"Accepted":12,"Rejected":1,"Hardware Errors":3,"Stale":2,"Difficulty Accepted":4096.00000000}],"id":1}`;
const DEVS = `{${status(9, '2 ASC(s)')},"DEVS":[{"ASC":0,"Name":"GSD","ID":0,"Enabled":"Y","Status":"Alive","Temperature":45.50,"MHS av":600.00,"MHS 5s":650.00,"Hardware Errors":1},{"ASC":1,"Name":"GSD","ID":1,"Enabled":"Y","Status":"Sick","Temperature":0.00,"MHS av":634.56,"MHS 5s":650.00,"Hardware Errors":2}],"id":1}`;
const POOLS = `{${status(7, '1 Pool(s)')},"POOLS":[{"POOL":0,"URL":"stratum+tcp://pool.example:3333","Status":"Alive","Accepted":12,"Rejected":1,"Stale":2,"User":"w.1","Stratum Active":true}],"id":1}`;
const VERSION = `{${status(22, 'CGMiner versions')},"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}`;
const NO_DEVS = `{${status(10, 'No ASCs', 'E')},"id":1}`;

const j = (s: string) => decodeReply(s).value;

describe('parseCgminer', () => {
  it('reads summary, devs, pools and version in MH/s', () => {
    const r = parseCgminer({ summary: j(SUMMARY), devs: j(DEVS), pools: j(POOLS), version: j(VERSION) });
    assert.equal(r.identity.family, 'cgminer');
    assert.equal(r.identity.firmware, 'cgminer 4.11.1');
    assert.equal(r.state, 'mining');
    assert.equal(r.hashrate_hs, 1300e6);
    assert.equal(r.hashrate_avg_hs, 1234560000);
    assert.equal(r.uptime_s, 975);
    assert.deepEqual([r.shares_accepted, r.shares_rejected, r.shares_stale], [12, 1, 2]);
    assert.equal(r.hw_errors, 3);
    assert.equal(r.difficulty_accepted, 4096);
    assert.equal(r.boards.length, 2);
    assert.equal(r.boards[0]?.temp_board_c, 45.5);
    assert.equal(r.boards[1]?.temp_board_c, null, 'Temperature 0.00 is no sensor');
    assert.ok(r.notes.includes('device 1 status Sick'));
    assert.equal(r.pools[0]?.active, true);
  });

  it('finds the rolling key by pattern (MHS 20s bfgminer, MHS 30s Avalon)', () => {
    assert.deepEqual(rollingRate({ 'MHS 20s': '5.5' }), { value: 5.5, factor: 1e6 });
    assert.deepEqual(rollingRate({ 'GHS 5s': 7 }), { value: 7, factor: 1e9 });
    assert.deepEqual(rollingRate({}), { value: null, factor: 1e6 });
  });

  it('Code 10 (no devices) is an error state with a note, not a crash', () => {
    const r = parseCgminer({
      summary: j(SUMMARY.replace('"MHS 5s":1300.00', '"MHS 5s":0.00')),
      devs: j(NO_DEVS),
    });
    assert.equal(r.state, 'error');
    assert.ok(r.notes.some((n) => /no devices/.test(n)));
  });

  it('a devs reply without a DEVS section is partial, not "no devices"', () => {
    const r = parseCgminer({
      summary: j(SUMMARY.replace('"MHS 5s":1300.00', '"MHS 5s":0.00')),
      devs: { STATUS: [{ STATUS: 'S', Code: 22, Msg: 'versions' }], VERSION: [{ CGMiner: '4.11.1' }] },
    });
    assert.equal(r.support, 'partial');
    assert.ok(!r.notes.some((n) => /no devices/.test(n)));
    assert.ok(r.notes.some((n) => /no DEVS section/.test(n)));
  });

  it('reads the real Avalon 1047 joined reply (MHS 30s)', () => {
    const v = decodeReply(readFixture('avalon_1047_summary-stats-pools.txt')).value;
    const split = splitJoinedReply(v, ['summary', 'stats', 'pools']);
    assert.ok(split);
    assert.deepEqual(split.missing, []);
    const r = parseCgminer({ summary: split.parts['summary'], pools: split.parts['pools'] });
    // "MHS 30s":32247416.81 → 32.2 TH/s; "MHS av":25536751.74.
    assert.equal(r.hashrate_hs, 32247416810000);
    assert.equal(r.hashrate_avg_hs, 25536751740000);
    assert.equal(r.uptime_s, 155);
  });
});

describe('cgminer driver on loopback', () => {
  let server: net.Server;
  let port = 0;
  const replies: Record<string, string> = { summary: SUMMARY, devs: DEVS, pools: POOLS, version: VERSION };
  before(async () => {
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (chunk) => {
        const cmd = (JSON.parse(chunk.toString('utf8')) as { command: string }).command;
        const parts = cmd.split('+');
        const body =
          parts.length === 1
            ? (replies[cmd] ?? `{${status(14, 'Invalid command', 'E')},"id":1}`)
            : `{${parts.map((p) => `"${p}":[${replies[p]}]`).join(',')},"id":1}`;
        socket.end(`${body}\0`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('polls summary+devs+pools+version in one joined request', async () => {
    const target: PollTarget = {
      host: '127.0.0.1',
      port,
      family: 'cgminer',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 3000,
      maxReplyBytes: 1 << 20,
    };
    const r = await cgminerDriver.poll(target, new AbortController().signal);
    assert.equal(r.support, 'full');
    assert.equal(r.hashrate_hs, 1300e6);
    assert.equal(r.boards.length, 2);
    assert.equal(r.identity.firmware, 'cgminer 4.11.1');
  });
});

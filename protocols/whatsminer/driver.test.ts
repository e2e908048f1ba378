/**
 * End to end over real loopback sockets: a `net.Server` in this file plays the miner, replaying the real
 * whatsminer fixtures on API v2 (NUL-terminated, one request per connection) and constructed API v3 replies
 * (length-prefixed; no real v3 capture exists, see parse-v3.test.ts).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { RtError } from '../../lib/errors.js';
import { readFixture, readFixtureText } from '../fixtures.js';
import { IDENTITY_EVERY, type PollTarget, RAW_CAP_BYTES } from '../kit/index.js';
import { v2Command, v3Command } from './client.js';
import { decodeWhatsminer } from './decode.js';
import { createWhatsminerDriver } from './driver.js';
import { encodeV3Frame, takeV3Frame } from './frame.js';
import { parseWhatsminer } from './parse.js';
import { V3_DEVICE_INFO, V3_EDEVS, V3_POOLS, V3_SUMMARY } from './testdata/v3-constructed.js';

const servers: net.Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

type V2Handler = (request: Record<string, unknown>) => string | Buffer | null;

/** A btminer v2 API: reads one JSON request, writes the reply + NUL, closes (cgminer api.c behaviour). */
async function v2Server(handler: V2Handler, log: string[] = []): Promise<number> {
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let req: Record<string, unknown>;
      try {
        req = JSON.parse(buf) as Record<string, unknown>;
      } catch {
        return; // wait for the rest
      }
      log.push(JSON.stringify(req));
      const reply = handler(req);
      if (reply === null) return; // hang: say nothing
      sock.end(Buffer.concat([Buffer.from(reply), Buffer.from([0])]));
    });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A Whatsminer API v3 endpoint: length-prefixed JSON in, length-prefixed JSON out. */
async function v3Server(
  handler: (req: Record<string, unknown>) => Buffer | object,
  log: string[] = [],
): Promise<number> {
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const frame = takeV3Frame(buf);
      if (!frame) return;
      const req = JSON.parse(frame.body.toString('utf8')) as Record<string, unknown>;
      log.push(JSON.stringify(req));
      const reply = handler(req);
      sock.end(Buffer.isBuffer(reply) ? reply : encodeV3Frame(reply));
    });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A loopback port nothing listens on (bound, then closed). */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const target = (port: number): PollTarget => ({
  host: '127.0.0.1',
  port,
  family: 'whatsminer',
  connectTimeoutMs: 2000,
  commandTimeoutMs: 5000,
  maxReplyBytes: 1 << 20,
});

const INVALID_CMD =
  '{"STATUS":"E","When":1613790817,"Code":14,"Msg":"invalid cmd","Description":"whatsminer v1.3"}';
const body = (f: string) => decodeWhatsminer(readFixture(f)).value;
const cmdOf = (req: Record<string, unknown>) => String(req.command ?? req.cmd);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof RtError ? err.code : `not an RtError: ${String(err)}`;
  }
  return 'no error';
}

describe('whatsminer driver over loopback', () => {
  it('M31S (btminer, API v1.3): joined summary+devs+pools, status, unknown get_* remembered', async () => {
    const log: string[] = [];
    const port = await v2Server((req) => {
      const c = cmdOf(req);
      if (c === 'summary+devs+pools') {
        // Joined layout (docs/protocols.md, "## cgminer API framing") built from the exact bytes of the three M31S captures.
        return `{"summary":[${readFixtureText('whatsminer_m31s_summary.txt')}],"devs":[${readFixtureText(
          'whatsminer_m31s_edevs.txt',
        )}],"pools":[${readFixtureText('whatsminer_m31s_pools.txt')}],"id":1}`;
      }
      if (c === 'status') return readFixture('whatsminer_m31s_status.txt');
      return INVALID_CMD;
    }, log);
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    const detailed = await driver.pollDetailed(target(port), AbortSignal.timeout(10_000));
    assert.equal(detailed.generation, 'v2');
    assert.equal(detailed.psu, null);
    const r = detailed.reading;
    const want = parseWhatsminer({
      summary: body('whatsminer_m31s_summary.txt'),
      devs: body('whatsminer_m31s_edevs.txt'),
      pools: body('whatsminer_m31s_pools.txt'),
      status: body('whatsminer_m31s_status.txt'),
    });
    assert.deepEqual(r, want);
    // status says btmineroff while the summary hashes: the figures decide, the contradiction is a note.
    assert.equal(r.state, 'mining');
    assert.equal(r.support, 'full');
    assert.equal(r.raw, null);
    assert.deepEqual(log, [
      '{"command":"summary+devs+pools"}',
      '{"cmd":"status"}',
      '{"cmd":"get_version"}',
      '{"cmd":"get_psu"}',
    ]);
    // Second poll: get_version / get_psu were Code 14, so they are not asked again; the summary hashes, so the
    // sleep flag in status would decide nothing: one connection.
    log.length = 0;
    const second = await driver.poll(target(port), AbortSignal.timeout(10_000));
    assert.deepEqual(log, ['{"command":"summary+devs+pools"}']);
    assert.equal(second.state, 'mining');
    assert.equal(second.hashrate_hs, r.hashrate_hs);
    assert.equal(driver.generationOf(`127.0.0.1:${port}`), 'v2');
  });

  it('status is asked while the summary shows no work, with the identity, and every poll when it reports curtailment', async () => {
    const summary = JSON.parse(readFixtureText('whatsminer_m31s_summary.txt')) as {
      SUMMARY: Record<string, unknown>[];
    };
    const idle = structuredClone(summary);
    const row = idle.SUMMARY[0] ?? {};
    for (const k of ['HS RT', 'MHS 5s', 'MHS 1m', 'MHS av', 'Power', 'Power_RT']) row[k] = 0;
    const rig = { asleep: false, hashPercent: 100 };
    /** A build whose status has only the sleep flag (the M31S capture), or also curtailment (API v2 doc's keys). */
    const miner = async (reportsCurtailment: boolean) => {
      const log: string[] = [];
      const port = await v2Server((req) => {
        const c = cmdOf(req);
        if (c === 'summary+devs+pools') {
          return `{"summary":[${JSON.stringify(rig.asleep ? idle : summary)}],"devs":[${readFixtureText(
            'whatsminer_m31s_edevs.txt',
          )}],"pools":[${readFixtureText('whatsminer_m31s_pools.txt')}],"id":1}`;
        }
        if (c === 'status') {
          const msg: Record<string, string> = { mineroff: rig.asleep ? 'true' : 'false' };
          if (reportsCurtailment)
            Object.assign(msg, { hash_percent: String(rig.hashPercent), power_mode: 'Normal' });
          return JSON.stringify({ STATUS: 'S', When: 1, Code: 131, Msg: msg, Description: '' });
        }
        return INVALID_CMD;
      }, log);
      const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
      return async (polls: number) => {
        const states: string[] = [];
        log.length = 0;
        for (let i = 0; i < polls; i++)
          states.push((await driver.poll(target(port), AbortSignal.timeout(10_000))).state);
        return { asks: log.filter((l) => l === '{"cmd":"status"}').length, states };
      };
    };

    const flagOnly = await miner(false);
    // First poll: asked with the identity. Then a hashing rig is not asked until the identity is due again.
    assert.equal((await flagOnly(1)).asks, 1);
    const hashing = await flagOnly(IDENTITY_EVERY - 1);
    assert.equal(hashing.asks, 0);
    assert.ok(hashing.states.every((st) => st === 'mining'));
    assert.equal((await flagOnly(1)).asks, 1, 'the identity poll asks status again');
    // Asleep: the summary shows no hashrate and no power, so the flag decides, every poll.
    rig.asleep = true;
    const sleeping = await flagOnly(3);
    assert.equal(sleeping.asks, 3);
    assert.deepEqual(sleeping.states, ['sleeping', 'sleeping', 'sleeping']);

    // A build whose status reports curtailment: asked every poll, and the state follows it at once.
    rig.asleep = false;
    const withCurtailment = await miner(true);
    const full = await withCurtailment(3);
    assert.equal(full.asks, 3);
    assert.deepEqual(full.states, ['mining', 'mining', 'mining']);
    rig.hashPercent = 80;
    const cut = await withCurtailment(2);
    assert.equal(cut.asks, 2);
    assert.deepEqual(cut.states, ['curtailed', 'curtailed']);
  });

  it('M30S (cgminer 4.9.2): Code 24 on "cmd" is retried with "command"; refused join falls back to singles', async () => {
    const log: string[] = [];
    const port = await v2Server((req) => {
      if ('cmd' in req) return readFixture('whatsminer_m30s_pools-summary-edevs.txt'); // Code 24
      switch (req.command) {
        case 'summary':
          return readFixture('whatsminer_m30s_summary.txt');
        case 'devs':
          return readFixture('whatsminer_m30s_edevs.txt');
        case 'pools':
          return readFixture('whatsminer_m30s_pools.txt');
        case 'get_psu':
          return '{"STATUS":"S","When":1,"Code":131,"Msg":{"name":"P21","model":"P21-12-3600-E","hw_version":"1","sw_version":"2","fan_speed":"6960"},"Description":""}';
        default:
          return INVALID_CMD.replace('whatsminer v1.3', 'cgminer 4.9.2');
      }
    }, log);
    const t = target(port);
    const single = await v2Command(t, 'summary', AbortSignal.timeout(10_000), 'cmd');
    assert.equal(single.key, 'command');
    assert.deepEqual(log, ['{"cmd":"summary"}', '{"command":"summary"}']);

    log.length = 0;
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    const d = await driver.pollDetailed(t, AbortSignal.timeout(10_000));
    assert.deepEqual(d.psu, {
      name: 'P21',
      model: 'P21-12-3600-E',
      hw_version: '1',
      sw_version: '2',
      fan_rpm: 6960,
    });
    const r = d.reading;
    assert.equal(r.support, 'full');
    assert.equal(r.hashrate_hs, 85038430010000);
    assert.equal(r.power_w, 3232);
    assert.equal(r.power_source, 'miner');
    assert.equal(r.boards.length, 3);
    assert.equal(r.pools.length, 3);
    assert.equal(r.identity.firmware, '20200512.13.REL');
    assert.deepEqual(log.slice(0, 4), [
      '{"command":"summary+devs+pools"}',
      '{"command":"summary"}',
      '{"command":"devs"}',
      '{"command":"pools"}',
    ]);
    // btminer's own commands: "cmd" → Code 24 → "command", then remembered.
    assert.ok(log.includes('{"cmd":"status"}') && log.includes('{"command":"status"}'));
    log.length = 0;
    const again = await driver.pollDetailed(t, AbortSignal.timeout(10_000));
    assert.equal(log[0], '{"command":"summary"}', 'join not retried');
    assert.ok(!log.some((l) => l.startsWith('{"cmd"')), 'the accepted key is remembered');
    // get_psu is identity: answered on the first poll, reused until IDENTITY_EVERY polls have gone by.
    assert.ok(!log.includes('{"command":"get_psu"}'), 'get_psu not asked on the second poll');
    assert.deepEqual(again.psu, d.psu);
    for (let i = 2; i < IDENTITY_EVERY; i++) await driver.poll(t, AbortSignal.timeout(10_000));
    log.length = 0;
    await driver.poll(t, AbortSignal.timeout(10_000));
    assert.ok(log.includes('{"command":"get_psu"}'), 'asked again after IDENTITY_EVERY polls');
  });

  it('M20S newer firmware: repaired summary, devs refused (Code 45) → partial with notes and raw', async () => {
    const port = await v2Server((req) => {
      switch (cmdOf(req)) {
        case 'summary':
          return readFixture('whatsminer_m20s_summary_2.txt');
        case 'pools':
          return readFixture('whatsminer_m20s_pools.txt');
        case 'devs':
          return '{"STATUS":[{"STATUS":"E","When":1604757733,"Code":45,"Msg":"Access denied to \'devs\' command","Description":"cgminer 4.9.2"}],"id":1}';
        default:
          return '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"cgminer 4.9.2"}],"id":1}';
      }
    });
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    const r = await driver.poll(target(port), AbortSignal.timeout(10_000));
    assert.equal(r.support, 'partial');
    assert.deepEqual(r.repairs, ['invalid-escape']);
    assert.equal(r.identity.firmware, '20200917.22.REL');
    assert.equal(r.hashrate_hs, 64143777950000);
    assert.deepEqual(r.boards, []);
    assert.ok(
      r.notes.some((n) => n.includes('RT_ERR_PROTO_ACCESS_DENIED')),
      r.notes.join('; '),
    );
    assert.ok(r.raw?.includes("\\'20200917.22.REL\\'"), 'raw keeps the bytes as received');
    assert.ok(Buffer.byteLength(r.raw ?? '') <= RAW_CAP_BYTES);
  });

  it('M3 (cgminer 4.9.2, no devs capture): boards come from the legacy stats reply', async () => {
    const log: string[] = [];
    const port = await v2Server((req) => {
      switch (cmdOf(req)) {
        case 'summary':
          return readFixture('whatsminer_m3_summary.txt');
        case 'pools':
          return readFixture('whatsminer_m3_pools.txt');
        case 'stats':
          return readFixture('whatsminer_m3_stats.txt'); // 67 KB, several TCP segments
        default:
          return '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"cgminer 4.9.2"}],"id":1}';
      }
    }, log);
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    const r = await driver.poll(target(port), AbortSignal.timeout(10_000));
    assert.equal(r.support, 'full');
    assert.deepEqual(
      r.boards.map((b) => [b.index, b.temp_board_c, b.chips, b.chips_expected]),
      [
        [0, 85.5, 62, 63],
        [1, 75, 63, 63],
        [2, 75.5, 62, 63],
      ],
    );
    assert.equal(r.hashrate_hs, 12286819780000);
    assert.equal(r.pools.length, 3);
    assert.ok(log.includes('{"command":"stats"}'));
  });

  it('4028 refused → API v3 on its port, generation cached', async () => {
    const v3log: string[] = [];
    const v3Port = await v3Server((req) => {
      if (req.cmd === 'get.device.info') return V3_DEVICE_INFO;
      switch (req.param) {
        case 'summary':
          return V3_SUMMARY;
        case 'edevs':
          return V3_EDEVS;
        default:
          return V3_POOLS;
      }
    }, v3log);
    const driver = createWhatsminerDriver({ v3Port });
    const t = target(await refusedPort());
    const d = await driver.pollDetailed(t, AbortSignal.timeout(10_000));
    assert.equal(d.generation, 'v3');
    assert.equal(d.reading.support, 'full');
    assert.equal(d.reading.identity.model, 'Whatsminer M60S VK40');
    assert.equal(d.reading.hashrate_hs, 171_230_000_000_000);
    assert.equal(d.reading.power_w, 3156);
    assert.equal(d.reading.boards.length, 3);
    assert.equal(driver.generationOf(`127.0.0.1:${t.port}`), 'v3');
    assert.deepEqual(v3log, [
      '{"cmd":"get.miner.status","param":"summary"}',
      '{"cmd":"get.miner.status","param":"edevs"}',
      '{"cmd":"get.miner.status","param":"pools"}',
      '{"cmd":"get.device.info"}',
    ]);
    // Direct client call with the exact framing.
    const one = await v3Command(t, 'get.device.info', undefined, AbortSignal.timeout(10_000), v3Port);
    assert.deepEqual(one.body, V3_DEVICE_INFO);
  });

  it('both ports refused → RT_ERR_WHATSMINER_API_DISABLED', async () => {
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    assert.equal(
      await codeOf(driver.poll(target(await refusedPort()), AbortSignal.timeout(10_000))),
      'RT_ERR_WHATSMINER_API_DISABLED',
    );
  });

  it('garbage on 4028 with no v3 → RT_ERR_PROTO_DECODE; v3 error code → named; hostile v3 length → too large', async () => {
    const garbage = await v2Server(() => '{"STATUS":[{"STATUS":"S"'); // cut off mid-reply
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    assert.equal(
      await codeOf(driver.poll(target(garbage), AbortSignal.timeout(10_000))),
      'RT_ERR_PROTO_DECODE',
    );

    const v3err = await v3Server(() => ({
      code: -1,
      msg: 'invalid command',
      desc: 'get.miner.status',
      when: 1,
    }));
    assert.equal(
      await codeOf(
        v3Command(target(v3err), 'get.miner.status', 'summary', AbortSignal.timeout(10_000), v3err),
      ),
      'RT_ERR_WHATSMINER_V3_ERROR',
    );
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0xfffffff0, 0);
    const hostile = await v3Server(() => huge);
    assert.equal(
      await codeOf(
        v3Command(target(hostile), 'get.device.info', undefined, AbortSignal.timeout(10_000), hostile),
      ),
      'RT_ERR_PROTO_REPLY_TOO_LARGE',
    );
  });

  it('abort stops a poll on a silent miner', async () => {
    const silent = await v2Server(() => null);
    const driver = createWhatsminerDriver({ v3Port: await refusedPort() });
    const ac = new AbortController();
    const p = driver.poll(target(silent), ac.signal);
    setImmediate(() => ac.abort());
    assert.equal(await codeOf(p), 'RT_ERR_PROTO_ABORTED');
  });
});

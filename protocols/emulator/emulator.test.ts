/**
 * The emulated rigs on real loopback sockets: framing (NUL + close), joins, refusals, every fault mode's
 * observable behaviour, moving figures, reboot, seeded determinism, Whatsminer v3 framing, Bitaxe HTTP, the
 * in-process fleet and the child-process fleet. Raw `net` clients only (no cgminer client dependency).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { readFixtureText } from '../fixtures.js';
import { tcpRequest } from '../tcp.js';
import { spawnEmulatorProcess } from './child.js';
import {
  fleetHosts,
  fleetPersonality,
  rigName,
  SPREAD_ABOVE,
  spreadHosts,
  startEmulatedFleet,
} from './fleet.js';
import { drawLatencyMs, hangsAt } from './latency.js';
import { loadPersonality, personalityNames } from './personalities.js';
import { type EmulatedRig, type StartRigOptions, startEmulatedRig } from './server.js';
import { seededRandom } from './vary.js';

interface RawReply {
  bytes: Buffer;
  /** 'end' = peer closed cleanly; 'error' = socket error (see code); 'open' = still open when we gave up. */
  how: 'end' | 'error' | 'open';
  code?: string;
  chunks: number;
}

/** One raw exchange: connect, write the payload in one go, collect until close/error or `waitMs`. */
function raw(port: number, payload: string | Buffer, waitMs = 5000, host = '127.0.0.1'): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (how: RawReply['how'], code?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), how, chunks: chunks.length, ...(code ? { code } : {}) });
    };
    const timer = setTimeout(() => finish('open'), waitMs);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => finish('end'));
    socket.once('error', (e: NodeJS.ErrnoException) => finish('error', e.code));
  });
}

const cmd = (command: string) => JSON.stringify({ command });

/** Reply text without the single trailing NUL (asserting it is there). */
function body(r: RawReply): string {
  assert.equal(r.how, 'end', `expected a clean close, got ${r.how} ${r.code ?? ''}`);
  assert.equal(r.bytes.at(-1), 0, 'reply must end with a NUL byte');
  assert.equal(r.bytes.indexOf(0), r.bytes.length - 1, 'exactly one NUL, at the end');
  return r.bytes.subarray(0, -1).toString('latin1');
}

const rigs: EmulatedRig[] = [];
async function rig(opts: StartRigOptions): Promise<EmulatedRig> {
  const r = await startEmulatedRig(opts);
  rigs.push(r);
  return r;
}
after(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

/** A clock that only moves when told to. */
function fakeClock(start = 1_750_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('cgminer wire behaviour', { timeout: 60_000 }, () => {
  test('version: fixture bytes, then one NUL, then close', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'antminer-s19pro', now: clock.now });
    const text = body(await raw(r.port, cmd('version')));
    // The clock has not moved, and version carries no moving figure except When (+0 s): byte-identical.
    assert.equal(text, readFixtureText('antminer_s19pro_version_3.txt'));
    const parsed = JSON.parse(text) as { VERSION: { Type: string }[] };
    assert.equal(parsed.VERSION[0]?.Type, 'Antminer S19 Pro');
  });

  test('a second command on the same connection gets nothing: the server closed', async () => {
    const r = await rig({ personality: 'antminer-s9' });
    const res = await new Promise<{ first: Buffer; ended: boolean }>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ host: '127.0.0.1', port: r.port }, () => s.write(cmd('version')));
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        if (c.includes(0)) s.write(cmd('stats'));
      });
      s.on('end', () => resolve({ first: Buffer.concat(chunks), ended: true }));
      s.on('error', () => resolve({ first: Buffer.concat(chunks), ended: true }));
    });
    assert.ok(res.ended);
    assert.equal(res.first.indexOf(0), res.first.length - 1);
    assert.equal(r.stats().commands, 1);
  });

  test('a client that keeps its side open after the reply is cut off after the linger time', async () => {
    const r = await rig({ personality: 'antminer-s9', lingerMs: 50 });
    const s = net.connect({ host: '127.0.0.1', port: r.port, allowHalfOpen: true }, () =>
      s.write(cmd('version')),
    );
    s.on('error', () => {});
    s.resume();
    await new Promise<void>((resolve) => s.once('end', () => resolve()));
    // Our side stays open (half-open client); the server must still let go of its socket.
    for (let i = 0; i < 200 && r.stats().open > 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(r.stats().open, 0);
    s.destroy();
  });

  test("malformed captures stay malformed (S9 stats `}{`, S9k trailing junk, M20S `\\'`)", async () => {
    const s9 = await rig({ personality: 'antminer-s9' });
    const stats = body(await raw(s9.port, cmd('stats')));
    assert.match(stats, /"Type":"Antminer S9\\nV1\.3\.58"\}\{"STATS":0/);
    assert.throws(() => JSON.parse(stats));
    const repaired = JSON.parse(stats.replace('}{', '},{')) as { STATS: Record<string, unknown>[] };
    assert.equal(repaired.STATS[1]?.ID, 'BC50');
    assert.equal(repaired.STATS[1]?.fan1, 0, 'empty fan slot stays 0');
    assert.equal(repaired.STATS[1]?.temp2_7, -83, 'the broken -83 sensor stays as captured');

    const s9k = await rig({ personality: 'antminer-s9k' });
    assert.ok(body(await raw(s9k.port, cmd('version'))).endsWith('"id":1}"}'));

    const m20s = await rig({ personality: 'whatsminer-m20s' });
    const summary = body(await raw(m20s.port, cmd('summary')));
    assert.ok(summary.includes(String.raw`"Firmware Version":"\'20200917.22.REL\'"`));
    assert.throws(() => JSON.parse(summary));
  });

  test('joins: one-element arrays under each command, one outer id; duplicates collapse', async () => {
    const r = await rig({ personality: 'antminer-s9asicseer' });
    const text = body(await raw(r.port, cmd('summary+stats+pools+summary')));
    const j = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), ['summary', 'stats', 'pools', 'id']);
    assert.equal(j.id, 1);
    for (const [k, section] of [
      ['summary', 'SUMMARY'],
      ['stats', 'STATS'],
      ['pools', 'POOLS'],
    ] as const) {
      const part = j[k] as Record<string, unknown>[];
      assert.equal(part.length, 1);
      assert.ok(Array.isArray(part[0]?.[section]), `${k} carries ${section}`);
      assert.equal(part[0]?.id, 1);
    }
    assert.equal(r.stats().commands, 3);
  });

  test('a join of a malformed reply keeps the defect at the text level', async () => {
    const r = await rig({ personality: 'antminer-s9' });
    const text = body(await raw(r.port, cmd('stats+pools')));
    assert.ok(text.startsWith('{"stats":[{"STATUS":[{"STATUS":"S"'));
    assert.ok(text.includes('}{"STATS":0'));
    assert.ok(text.includes('],"pools":[{"STATUS"'));
    assert.ok(text.endsWith('],"id":1}'));
  });

  test('Avalon 1047: singles cut from the captured join re-assemble to the same shape', async () => {
    const r = await rig({ personality: 'avalon-1047' });
    const text = body(await raw(r.port, cmd('summary+stats+pools')));
    const got = JSON.parse(text) as Record<string, { STATS?: { ID: string }[] }[]>;
    const want = JSON.parse(readFixtureText('avalon_1047_summary-stats-pools.txt')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(got), Object.keys(want));
    assert.equal(got.stats?.[0]?.STATS?.[0]?.ID, 'AVA100');
    assert.match(text, /MM ID0":"Ver\[1047-20051101_85dc6f0_0332654\]/);
  });

  test('Avalon estats: stats without the pool rows, device row byte for byte', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'avalon-1047', now: clock.now });
    const stats = JSON.parse(body(await raw(r.port, cmd('stats')))) as { STATS: { ID: string }[] };
    const estats = JSON.parse(body(await raw(r.port, cmd('estats')))) as { STATS: { ID: string }[] };
    assert.deepEqual(
      stats.STATS.map((s) => s.ID),
      ['AVA100', 'POOL0', 'POOL1', 'POOL2'],
    );
    assert.deepEqual(
      estats.STATS.map((s) => s.ID),
      ['AVA100'],
    );
  });

  test('S17/S19/S21-era stock Antminer refuses a join as one unknown command (Code 14); alone each answers', async () => {
    const r = await rig({ personality: 'antminer-s19pro' });
    const j = JSON.parse(body(await raw(r.port, cmd('stats+pools')))) as {
      STATUS: { STATUS: string; Code: number; Msg: string }[];
    };
    assert.deepEqual(Object.keys(j), ['STATUS', 'id']);
    assert.equal(j.STATUS[0]?.STATUS, 'E');
    assert.equal(j.STATUS[0]?.Code, 14);
    for (const c of ['stats', 'pools']) {
      const one = JSON.parse(body(await raw(r.port, cmd(c)))) as { STATUS: { STATUS: string }[] };
      assert.equal(one.STATUS[0]?.STATUS, 'S');
    }
    assert.match(body(await raw(r.port, 'stats+pools')), /^STATUS=E,When=\d+,Code=14,Msg=Invalid command\|$/);
  });

  test('stock Antminer refuses devdetails/config with Code 45, alone and inside a join', async () => {
    const r = await rig({ personality: 'antminer-s9' });
    for (const c of ['devdetails', 'config', 'estats']) {
      const j = JSON.parse(body(await raw(r.port, cmd(c)))) as {
        STATUS: { STATUS: string; Code: number; Msg: string }[];
      };
      assert.equal(j.STATUS[0]?.STATUS, 'E');
      assert.equal(j.STATUS[0]?.Code, 45);
      assert.equal(j.STATUS[0]?.Msg, `Access denied to '${c}' command`);
    }
    const joined = JSON.parse(body(await raw(r.port, cmd('version+devdetails')))) as Record<
      string,
      { STATUS: { Code: number }[] }[]
    >;
    assert.equal(joined.version?.[0]?.STATUS[0]?.Code, 22);
    assert.equal(joined.devdetails?.[0]?.STATUS[0]?.Code, 45);
  });

  test('errors: unknown command 14, broken JSON 23, missing command 24, oversized request 23', async () => {
    const r = await rig({ personality: 'cgminer-generic' });
    const code = (t: string) => (JSON.parse(t) as { STATUS: { Code: number }[] }).STATUS[0]?.Code;
    assert.equal(code(body(await raw(r.port, cmd('nosuch')))), 14);
    assert.equal(code(body(await raw(r.port, '{}'))), 24);
    assert.equal(code(body(await raw(r.port, `{"command":"${'x'.repeat(5000)}`))), 23);
    // An unfinished JSON request followed by a half-close is answered, not left hanging.
    const half = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ host: '127.0.0.1', port: r.port }, () => s.end('{"command":"summ'));
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    assert.equal(code(half.subarray(0, -1).toString()), 23);
  });

  test('text mode: pipe format, captured text replies verbatim, nothing trimmed', async () => {
    const wm = await rig({ personality: 'whatsminer-m30s' });
    const t = body(await raw(wm.port, 'summary'));
    assert.match(
      t,
      /^STATUS=S,When=\d+,Code=11,Msg=Summary,Description=cgminer 4\.9\.2\|SUMMARY,Elapsed=\d+,MHS av=/,
    );
    assert.ok(t.endsWith('|'));
    const joined = body(await raw(wm.port, 'summary+pools'));
    assert.match(joined, /^CMD=summary\|STATUS=S,.*\|CMD=pools\|STATUS=S,.*\|POOL=1,/);
    const bad = body(await raw(wm.port, 'summary\n'));
    assert.match(bad, /^STATUS=E,When=\d+,Code=14,Msg=Invalid command\|$/);

    const clock = fakeClock();
    const mini = await rig({ personality: 'avalon-mini3', now: clock.now });
    assert.equal(body(await raw(mini.port, 'version')), readFixtureText('avalon_mini3_version.txt'));
  });

  test('Whatsminer answers {"cmd":…} like btminer: Code 24 for cgminer commands, own commands work', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'whatsminer-m31s', now: clock.now });
    assert.equal(
      body(await raw(r.port, JSON.stringify({ cmd: 'pools+summary+edevs' }))),
      readFixtureText('whatsminer_m30s_pools-summary-edevs.txt'),
    );
    const status = JSON.parse(body(await raw(r.port, JSON.stringify({ cmd: 'status' })))) as Record<
      string,
      unknown
    >;
    assert.equal(status.STATUS, 'S');
    assert.equal(status.Code, 131);
    const token = JSON.parse(body(await raw(r.port, JSON.stringify({ cmd: 'get_token' })))) as Record<
      string,
      unknown
    >;
    assert.equal(token.Code, 134);
    const summary = JSON.parse(body(await raw(r.port, cmd('summary')))) as {
      SUMMARY: Record<string, unknown>[];
    };
    assert.ok(Number(summary.SUMMARY[0]?.Power) > 0);
    const devs = JSON.parse(body(await raw(r.port, cmd('devs')))) as { DEVS: unknown[] };
    assert.ok(devs.DEVS.length > 0, 'devs answered from the edevs capture');
  });

  test('every cgminer personality answers every command it has with NUL + close', async () => {
    for (const name of personalityNames()) {
      const p = loadPersonality(name);
      if (p.protocol !== 'cgminer') continue;
      const r = await rig({ personality: name, seed: 3 });
      for (const c of p.single.keys()) {
        const payload = p.whatsminer?.own[c] !== undefined ? JSON.stringify({ cmd: c }) : cmd(c);
        const text = body(await raw(r.port, payload));
        assert.ok(text.length > 20, `${name} ${c}`);
      }
      await r.close();
    }
  });
});

describe('fault modes', { timeout: 60_000 }, () => {
  test('hang: accepts and reads, then no byte within 300 ms and the socket stays open', async () => {
    const r = await rig({ personality: 'antminer-s19pro', fault: 'hang' });
    const res = await raw(r.port, cmd('summary'), 300);
    assert.equal(res.how, 'open');
    assert.equal(res.bytes.length, 0);
  });

  test('refuse: ECONNREFUSED; back to none listens again on the same port', async () => {
    const r = await rig({ personality: 'antminer-s19pro' });
    const port = r.port;
    await r.setFault('refuse');
    const res = await raw(port, cmd('summary'));
    assert.equal(res.how, 'error');
    assert.equal(res.code, 'ECONNREFUSED');
    await r.setFault('none');
    assert.equal(r.port, port);
    assert.ok(body(await raw(port, cmd('summary'))).includes('"SUMMARY"'));
  });

  test('empty: accepted and closed without a byte (EOF, not an error)', async () => {
    const r = await rig({ personality: 'antminer-s19pro', fault: 'empty' });
    const res = await raw(r.port, cmd('summary'));
    assert.equal(res.how, 'end');
    assert.equal(res.bytes.length, 0);
  });

  test('reset: part of the reply, then ECONNRESET', async () => {
    const r = await rig({ personality: 'antminer-s19pro', fault: 'reset' });
    const res = await raw(r.port, cmd('stats'));
    assert.equal(res.how, 'error');
    assert.equal(res.code, 'ECONNRESET');
    assert.equal(res.bytes.indexOf(0), -1, 'no terminator arrived');
  });

  test('oversize: more than 1 MiB arrives with no NUL, then a close', async () => {
    const r = await rig({ personality: 'antminer-s19pro', fault: 'oversize' });
    const res = await raw(r.port, cmd('stats'), 20_000);
    assert.equal(res.how, 'end');
    assert.ok(res.bytes.length > 1024 * 1024);
    assert.equal(res.bytes.length, 8 * 1024 * 1024);
    assert.equal(res.bytes.indexOf(0), -1);
  });

  test('garbage: random bytes ending in one NUL, not JSON; seeded', async () => {
    const a = await rig({ personality: 'antminer-s19pro', fault: 'garbage', seed: 5 });
    const b = await rig({ personality: 'antminer-s19pro', fault: 'garbage', seed: 5 });
    const ra = await raw(a.port, cmd('stats'));
    const rb = await raw(b.port, cmd('stats'));
    const text = body(ra);
    assert.ok(text.length >= 256);
    assert.throws(() => JSON.parse(text));
    assert.deepEqual(ra.bytes, rb.bytes);
  });

  test('drip: the reply arrives one byte at a time, complete', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'avalon-1166pro', now: clock.now });
    await r.setFault('drip', { dripIntervalMs: 1 });
    const res = await raw(r.port, cmd('version'), 10_000);
    const text = body(res);
    assert.ok(res.chunks > 50, `arrived in ${res.chunks} chunks`);
    assert.equal(`${text}\0`, readFixtureText('avalon_1166pro_version.txt'));
  });

  test('slow: the normal reply, later', async () => {
    const r = await rig({
      personality: 'antminer-s19pro',
      fault: 'slow',
      faultOptions: { slowDelayMs: 100 },
    });
    assert.ok(body(await raw(r.port, cmd('version'))).includes('"VERSION"'));
  });

  test('added latency: no byte before the delay; setLatency(null) answers at once again', async () => {
    const r = await rig({ personality: 'antminer-s19pro', latency: { minMs: 400, maxMs: 400 } });
    const early = await raw(r.port, cmd('version'), 150);
    assert.equal(early.how, 'open');
    assert.equal(early.bytes.length, 0);
    assert.ok(body(await raw(r.port, cmd('version'))).includes('"VERSION"'));
    r.setLatency(null);
    assert.ok(body(await raw(r.port, cmd('version'), 150)).includes('"VERSION"'));
    assert.throws(() => r.setLatency({ minMs: 50, maxMs: 10 }), RangeError);
  });

  test('latency draws: within min…max, median near √(min·max), seeded', () => {
    const draws = (seed: number) => {
      const rng = seededRandom(seed);
      return Array.from({ length: 2000 }, () => drawLatencyMs({ minMs: 20, maxMs: 200 }, rng));
    };
    const a = draws(3);
    assert.ok(a.every((d) => d >= 20 && d <= 200));
    const sorted = [...a].sort((x, y) => x - y);
    const median = sorted[1000] as number;
    assert.ok(median > 55 && median < 72, `median ${median}`); // √(20·200) ≈ 63
    assert.ok((sorted[1900] as number) > 120, 'a tail towards max');
    assert.deepEqual(draws(3), a);
    assert.notDeepEqual(draws(4), a);
    assert.equal(drawLatencyMs({ minMs: 0, maxMs: 0 }, seededRandom(1)), 0);
  });

  test('serial: like cgminer, a silent client holds up the next one until it goes away', async () => {
    const r = await rig({ personality: 'antminer-s9', serial: true });
    const silent = net.connect({ host: '127.0.0.1', port: r.port });
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    const blocked = await raw(r.port, cmd('version'), 300);
    assert.equal(blocked.how, 'open');
    assert.equal(blocked.bytes.length, 0);
    const waiting = raw(r.port, cmd('version'));
    silent.destroy();
    assert.ok(body(await waiting).includes('"VERSION"'));
  });

  test('reboot with downtime: refused while down, then Elapsed restarts', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'antminer-s17pro', now: clock.now });
    const back = r.reboot(150);
    assert.equal((await raw(r.port, cmd('stats'))).code, 'ECONNREFUSED');
    await back;
    clock.advance(3000);
    const s = JSON.parse(body(await raw(r.port, cmd('stats')))) as { STATS: Record<string, number>[] };
    assert.equal(s.STATS[1]?.Elapsed, 3);
  });

  test('the shared tcpRequest maps each fault to its named error', async () => {
    const r = await rig({ personality: 'antminer-s19pro' });
    const ask = () =>
      tcpRequest({
        host: '127.0.0.1',
        port: r.port,
        payload: cmd('stats'),
        connectTimeoutMs: 1000,
        deadlineMs: 400,
        maxBytes: 1024 * 1024,
      });
    const ok = await ask();
    assert.equal(ok.ended, 'nul');
    const expect: [Parameters<EmulatedRig['setFault']>[0], string][] = [
      ['hang', 'RT_ERR_PROTO_TIMEOUT'],
      ['empty', 'RT_ERR_PROTO_EMPTY_REPLY'],
      ['reset', 'RT_ERR_PROTO_RESET'],
      ['oversize', 'RT_ERR_PROTO_REPLY_TOO_LARGE'],
      ['refuse', 'RT_ERR_PROTO_CONNECT_REFUSED'],
    ];
    for (const [mode, code] of expect) {
      await r.setFault(mode);
      await assert.rejects(
        ask(),
        (e: unknown) => (e as { code?: string }).code === code,
        `${mode} → ${code}`,
      );
    }
    await r.setFault('none');
  });

  test('hostile requests: random bytes, half-closed, on every protocol; each answered or closed, server lives', async () => {
    const rand = seededRandom(99);
    for (const personality of ['antminer-s9', 'whatsminer-m30s', 'whatsminer-v3', 'bitaxe-supra']) {
      const r = await rig({ personality, idleTimeoutMs: 2000 });
      for (let i = 0; i < 30; i++) {
        const n = Math.floor(rand() * 6000);
        const junk = Buffer.alloc(n);
        for (let k = 0; k < n; k++) junk[k] = Math.floor(rand() * 256);
        // Half of them start like a JSON request, so the JSON paths see junk too.
        if (i % 2 === 0 && n > 1) junk[0] = 0x7b;
        const res = await new Promise<string>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: r.port }, () => s.end(junk));
          s.resume();
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          s.on('close', () => resolve('closed'));
        });
        assert.ok(['closed', 'ECONNRESET', 'EPIPE'].includes(res), `${personality} #${i}: ${res}`);
      }
      // Still serving.
      if (personality === 'bitaxe-supra')
        assert.equal((await fetch(`http://${r.address}/api/system/info`)).status, 200);
      else if (personality !== 'whatsminer-v3')
        assert.ok(body(await raw(r.port, cmd('summary'))).length > 50);
      await r.close();
    }
  });

  test('bad fault mode and unknown personality are named errors', async () => {
    await assert.rejects(
      startEmulatedRig({ personality: 'antminer-s99' }),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_EMU_UNKNOWN_PERSONALITY',
    );
    await assert.rejects(
      startEmulatedRig({ personality: 'antminer-s9', host: '0.0.0.0' }),
      (e: unknown) =>
        (e as { code?: string; message?: string }).code === 'RT_ERR_EMU_LISTEN' &&
        /loopback/.test((e as Error).message),
    );
    const r = await rig({ personality: 'antminer-s9' });
    await assert.rejects(
      r.setFault('explode' as never),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_EMU_BAD_FAULT',
    );
  });
});

describe('moving figures', { timeout: 60_000 }, () => {
  const statsOf = (text: string) => {
    const j = JSON.parse(text) as { STATS: Record<string, unknown>[] };
    return j.STATS[1] as Record<string, number | string>;
  };

  test('values change between polls; zeros stay zero; Elapsed follows the clock', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'antminer-s19pro-cold', seed: 11, now: clock.now });
    const a = statsOf(body(await raw(r.port, cmd('stats'))));
    clock.advance(60_000);
    const b = statsOf(body(await raw(r.port, cmd('stats'))));
    assert.notEqual(a['GHS 5s'], b['GHS 5s']);
    assert.notEqual(a.chain_rate1, b.chain_rate1);
    assert.equal(typeof b.chain_rate1, 'string', 'chain_rateN stays a string');
    assert.equal(b.chain_rate4, '', 'absent chain stays ""');
    assert.equal(b.chain_acn4, 0);
    assert.equal(b.temp_pcb1, '2--1-20-22', 'sensor strings are not touched');
    assert.equal(b.total_rateideal, 111859.0, 'nameplate does not move');
    assert.equal(Number(b.Elapsed) - Number(a.Elapsed), 60);
    const ghs = Number(b['GHS 5s']);
    assert.ok(ghs > 111859 * 0.9 && ghs < 111859 * 1.1, `GHS 5s ${ghs} within a few % of nameplate`);
  });

  test('sleeping rigs stay asleep: zero hashrate stays zero', async () => {
    const r = await rig({ personality: 'antminer-s19', seed: 2 });
    const s = statsOf(body(await raw(r.port, cmd('stats'))));
    assert.equal(s['GHS 5s'], 0);
  });

  test('counters grow with time; reboot() restarts Elapsed and counters', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'whatsminer-m30s', seed: 4, now: clock.now });
    const sum = async () =>
      (JSON.parse(body(await raw(r.port, cmd('summary')))) as { SUMMARY: Record<string, number>[] })
        .SUMMARY[0] as Record<string, number>;
    const s0 = await sum();
    clock.advance(3_600_000);
    const s1 = await sum();
    assert.equal(s1.Elapsed, (s0.Elapsed ?? 0) + 3600);
    assert.ok((s1.Accepted ?? 0) > (s0.Accepted ?? 0), 'accepted shares grow');
    r.reboot();
    clock.advance(10_000);
    const s2 = await sum();
    assert.equal(s2.Elapsed, 10);
    assert.ok((s2.Accepted ?? 0) < (s1.Accepted ?? 0));
    assert.ok((s2['Difficulty Accepted'] ?? 0) < (s1['Difficulty Accepted'] ?? 0));
  });

  test('random reboots with probability 1 keep Elapsed near zero', async () => {
    const clock = fakeClock();
    const r = await rig({ personality: 'antminer-s17pro', seed: 4, now: clock.now, rebootProbability: 1 });
    clock.advance(5000);
    const s = statsOf(body(await raw(r.port, cmd('stats'))));
    assert.equal(s.Elapsed, 0);
  });

  test('seeded determinism: same seed and clock give the same bytes; another seed differs', async () => {
    const run = async (seed: number) => {
      const clock = fakeClock();
      const r = await rig({ personality: 'antminer-s9', seed, now: clock.now });
      const out: string[] = [];
      for (const c of ['stats', 'summary', 'stats+pools']) {
        out.push(body(await raw(r.port, cmd(c))));
        clock.advance(7_000);
      }
      return out;
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('other protocols', { timeout: 60_000 }, () => {
  test('Whatsminer v3: 4-byte little-endian length framing both ways', async () => {
    const r = await rig({ personality: 'whatsminer-v3' });
    const ask = async (req: unknown) => {
      const json = Buffer.from(JSON.stringify(req));
      const head = Buffer.alloc(4);
      head.writeUInt32LE(json.length);
      const res = await raw(r.port, Buffer.concat([head, json]));
      assert.equal(res.how, 'end');
      const len = res.bytes.readUInt32LE(0);
      assert.equal(res.bytes.length, 4 + len, 'length prefix matches the body');
      return JSON.parse(res.bytes.subarray(4).toString()) as { code: number; msg: Record<string, unknown> };
    };
    const s = await ask({ cmd: 'get.miner.status', param: 'summary' });
    assert.equal(s.code, 0);
    const summary = s.msg.summary as Record<string, number>;
    assert.ok((summary['hash-realtime'] ?? 0) > 100);
    assert.ok((summary['power-realtime'] ?? 0) > 1000);
    const info = await ask({ cmd: 'get.device.info' });
    assert.equal((info.msg.miner as { type: string }).type, 'M60S_VK40');
    const edevs = await ask({ cmd: 'get.miner.status', param: 'edevs' });
    assert.equal((edevs.msg.edevs as unknown[]).length, 3);
    assert.notEqual((await ask({ cmd: 'nope' })).code, 0);
    // The shared client reads the same framing.
    const json = Buffer.from(JSON.stringify({ cmd: 'get.miner.status', param: 'pools' }));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(json.length);
    const viaClient = await tcpRequest({
      host: '127.0.0.1',
      port: r.port,
      payload: Buffer.concat([head, json]),
      connectTimeoutMs: 1000,
      deadlineMs: 3000,
      maxBytes: 65536,
      framing: 'length-le32',
    });
    assert.equal(viaClient.ended, 'length');
    assert.equal((JSON.parse(viaClient.bytes.toString()) as { code: number }).code, 0);
  });

  test('Bitaxe: GET /api/system/info over HTTP', async () => {
    const r = await rig({ personality: 'bitaxe-supra' });
    const res = await fetch(`http://${r.address}/api/system/info`);
    assert.equal(res.status, 200);
    const info = (await res.json()) as Record<string, unknown>;
    assert.equal(info.ASICModel, 'BM1368');
    assert.equal(info.bestDiff, '483k');
    assert.equal((await fetch(`http://${r.address}/nope`)).status, 404);
    assert.match(await (await fetch(`http://${r.address}/`)).text(), /AxeOS/);
  });
});

describe('fleets', { timeout: 60_000 }, () => {
  test('in-process mixed fleet: names, ports, families; every rig answers', async () => {
    const fleet = await startEmulatedFleet({ count: 24, mix: 'mixed', seed: 9 });
    try {
      assert.equal(fleet.rigs.length, 24);
      assert.equal(fleet.rigs[0]?.name, 'emu-001');
      assert.equal(fleet.rigs[23]?.name, 'emu-024');
      assert.equal(new Set(fleet.rigs.map((r) => r.port)).size, 24);
      const families = new Set(fleet.rigs.map((r) => r.family));
      for (const f of ['antminer', 'whatsminer', 'avalon', 'braiins', 'luxos', 'vnish', 'bitaxe']) {
        assert.ok(families.has(f as never), f);
      }
      const antminers = fleet.rigs.filter((r) => r.family === 'antminer').length;
      assert.ok(antminers >= 12, `mostly Antminer (${antminers}/24)`);
      for (const r of fleet.rigs.filter((x) => x.protocol === 'cgminer')) {
        const res = await raw(r.port, cmd(r.family === 'avalon' ? 'summary' : 'pools'));
        assert.equal(res.how, 'end', r.name);
        assert.equal(res.bytes.at(-1), 0, r.name);
      }
    } finally {
      await fleet.stop();
    }
    await assert.rejects(
      startEmulatedFleet({ count: 0 }),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_EMU_BAD_FLEET_SIZE',
    );
  });

  test('IPv6 loopback (::1), when the host has it', async (t) => {
    let r: EmulatedRig;
    try {
      r = await rig({ personality: 'antminer-s9', host: '::1' });
    } catch (e) {
      t.skip(`no IPv6 loopback: ${(e as Error).message}`);
      return;
    }
    assert.equal(r.address, `[::1]:${r.port}`);
    assert.ok(body(await raw(r.port, cmd('version'), 5000, '::1')).includes('"VERSION"'));
  });

  test('several loopback addresses can share one port, like a farm on 4028', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const fleet = await startEmulatedFleet({
      count: 4,
      hosts: ['127.0.1.1', '127.0.1.2'],
      basePort: port,
      mix: 'antminer',
    });
    try {
      assert.deepEqual(
        fleet.rigs.map((r) => r.address),
        [`127.0.1.1:${port}`, `127.0.1.2:${port}`, `127.0.1.1:${port + 1}`, `127.0.1.2:${port + 1}`],
      );
      const v = body(await raw(port, cmd('version'), 5000, '127.0.1.2'));
      assert.ok(v.includes('"VERSION"'));
    } finally {
      await fleet.stop();
    }
  });

  test('hangFraction: the seeded share of rigs hangs, the rest answer; `first` serves a share with the same rigs', async () => {
    const seed = 5;
    const expected = Array.from({ length: 40 }, (_, i) => hangsAt(seed, i, 0.25));
    const hungCount = expected.filter(Boolean).length;
    assert.ok(hungCount > 3 && hungCount < 18, `about a quarter hang (${hungCount}/40)`);
    // A larger fraction hangs a superset.
    assert.ok(expected.every((h, i) => !h || hangsAt(seed, i, 0.5)));
    const share = await startEmulatedFleet({ count: 20, first: 20, mix: 'mixed', seed, hangFraction: 0.25 });
    try {
      assert.deepEqual(
        share.rigs.map((r) => [r.name, r.personality, r.fault]),
        Array.from({ length: 20 }, (_, k) => [
          rigName(20 + k),
          fleetPersonality('mixed', 20 + k),
          expected[20 + k] ? 'hang' : 'none',
        ]),
      );
      const hung = share.rigs.find((r) => r.fault === 'hang' && r.protocol === 'cgminer');
      const healthy = share.rigs.find((r) => r.fault === 'none' && r.protocol === 'cgminer');
      assert.ok(hung && healthy);
      assert.equal((await raw(hung.port, cmd('version'), 300)).how, 'open');
      assert.equal((await raw(healthy.port, cmd('version'))).how, 'end');
    } finally {
      await share.stop();
    }
  });

  test('large fleets on ephemeral ports spread over loopback addresses (~40 rigs each)', () => {
    assert.deepEqual(fleetHosts({ count: SPREAD_ABOVE }), ['127.0.0.1']);
    assert.deepEqual(fleetHosts({ count: 10_000, host: '127.0.0.1' }), ['127.0.0.1']);
    assert.deepEqual(fleetHosts({ count: 10_000, basePort: 14028 }), ['127.0.0.1']);
    const spread = fleetHosts({ count: 10_000 });
    assert.equal(spread.length, 250);
    assert.equal(spread[0], '127.0.1.1');
    assert.equal(spread[249], '127.0.1.250');
    const more = spreadHosts(20_000);
    assert.equal(more.length, 500);
    assert.equal(more[250], '127.0.2.1');
    assert.equal(new Set(more).size, 500);
  });

  test('child fleet in two processes: one fleet, faults and latency by name, usage summed, both stop', async () => {
    const fleet = await spawnEmulatorProcess({ count: 20, mix: 'mixed', seed: 2, processes: 2 });
    let stopped = false;
    try {
      assert.equal(fleet.pids.length, 2);
      assert.notEqual(fleet.pids[0], fleet.pids[1]);
      assert.deepEqual(
        fleet.rigs.map((r) => [r.name, r.personality]),
        Array.from({ length: 20 }, (_, i) => [rigName(i), fleetPersonality('mixed', i)]),
      );
      const a = fleet.rigs[3];
      const b = fleet.rigs[16]; // served by the second process
      assert.ok(a && b && a.protocol === 'cgminer' && b.protocol === 'cgminer');
      assert.ok(body(await raw(a.port, cmd('version'), 5000, a.host)).includes('"STATUS"'));
      assert.ok(body(await raw(b.port, cmd('version'), 5000, b.host)).includes('"STATUS"'));
      assert.equal((await fleet.usage()).commands, 2);
      await fleet.setFault('hang', [b.name]);
      assert.equal((await raw(b.port, cmd('version'), 300, b.host)).how, 'open');
      assert.equal((await raw(a.port, cmd('version'), 5000, a.host)).how, 'end');
      await fleet.setFault('none', [b.name]);
      await fleet.setLatency({ minMs: 400, maxMs: 400 }, [a.name]);
      assert.equal((await raw(a.port, cmd('version'), 150, a.host)).how, 'open');
      assert.equal((await raw(b.port, cmd('version'), 5000, b.host)).how, 'end');
      await fleet.stop();
      stopped = true;
      for (const pid of fleet.pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
    } finally {
      if (!stopped) await fleet.stop();
    }
  });

  test('child-process fleet starts, serves, takes faults and stops cleanly', async () => {
    // 1,000 listeners in one process (the benchmark size).
    const fleet = await spawnEmulatorProcess({ count: 1000, mix: 'antminer' });
    let stopped = false;
    try {
      assert.equal(fleet.rigs.length, 1000);
      assert.equal(fleet.rigs[999]?.name, 'emu-1000');
      assert.equal(new Set(fleet.rigs.map((r) => r.port)).size, 1000);
      assert.ok(fleet.rigs.every((r) => r.family === 'antminer'));
      for (const i of [0, 499, 999]) {
        const r = fleet.rigs[i];
        assert.ok(r);
        assert.ok(body(await raw(r.port, cmd('summary'))).includes('"SUMMARY"'), r.name);
      }
      assert.equal((await fleet.usage()).commands, 3);
      const first = fleet.rigs[0];
      assert.ok(first);
      await fleet.setFault('refuse', [first.name]);
      assert.equal((await raw(first.port, cmd('summary'))).code, 'ECONNREFUSED');
      await fleet.stop();
      stopped = true;
      assert.throws(() => process.kill(fleet.pid, 0), /ESRCH/);
      assert.equal((await raw(fleet.rigs[1]?.port ?? 1, cmd('summary'))).code, 'ECONNREFUSED');
    } finally {
      if (!stopped) await fleet.stop();
    }
  });
});

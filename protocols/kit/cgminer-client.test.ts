/**
 * The client against a real loopback TCP server that answers like cgminer does (and like the odd firmwares do).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PollTarget } from '../driver.js';
import { ProtoErrors } from '../errors.js';
import { cgminerCommands, cgminerRequest, splitJoinedReply } from './cgminer-client.js';
import { RETRY_EVERY, RefusalMemory } from './refusals.js';

type Behaviour = (request: string, socket: net.Socket) => unknown;

const status = (code: number, msg: string, letter = 'S') =>
  `"STATUS":[{"STATUS":"${letter}","When":1,"Code":${code},"Msg":"${msg}","Description":"cgminer 4.11.1"}]`;
const reply = (cmd: string): string => {
  switch (cmd) {
    case 'summary':
      return `{${status(11, 'Summary')},"SUMMARY":[{"Elapsed":10,"MHS 5s":1.5}],"id":1}`;
    case 'stats':
      return `{${status(70, 'CGMiner stats')},"STATS":[{"STATS":0,"ID":"BC50"}],"id":1}`;
    case 'pools':
      return `{${status(7, '1 Pool(s)')},"POOLS":[{"POOL":0,"URL":"stratum+tcp://p:3333"}],"id":1}`;
    case 'devs':
      return `{${status(10, 'No ASCs', 'E')},"id":1}`;
    case 'devdetails':
      return `{${status(45, "Access denied to 'devdetails' command", 'E')},"id":1}`;
    case 'version':
      return `{${status(22, 'CGMiner versions')},"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}`;
    default:
      return `{${status(14, 'Invalid command', 'E')},"id":1}`;
  }
};

/** Answers like cgminer 4.11: joins supported, NUL then close. */
const cgminerLike: Behaviour = (request, socket) => {
  const cmd = String((JSON.parse(request) as { command: string }).command);
  const parts = cmd.split('+');
  const body =
    parts.length === 1 ? reply(cmd) : `{${parts.map((p) => `"${p}":[${reply(p)}]`).join(',')},"id":1}`;
  socket.end(`${body}\0`);
};

let server: net.Server;
let port = 0;
let behaviour: Behaviour = cgminerLike;
const requests: string[] = [];

before(async () => {
  server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      // Requests are one JSON object in one write; answer once it parses.
      try {
        JSON.parse(buf);
      } catch {
        return;
      }
      requests.push(buf);
      void behaviour(buf, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const target = (): PollTarget => ({
  host: '127.0.0.1',
  port,
  family: 'cgminer',
  connectTimeoutMs: 2000,
  commandTimeoutMs: 3000,
  maxReplyBytes: 1 << 20,
});

const signal = () => new AbortController().signal;

function use(b: Behaviour) {
  behaviour = b;
  requests.length = 0;
}

describe('cgminer client on loopback', () => {
  it('joined commands are split per part, with per-part STATUS', async () => {
    use(cgminerLike);
    const r = await cgminerCommands(target(), ['summary', 'stats', 'pools', 'devs'], signal(), {
      join: true,
    });
    assert.equal(requests.length, 1);
    assert.deepEqual(JSON.parse(requests[0]!), { command: 'summary+stats+pools+devs' });
    assert.ok(r['summary']?.ok && r['stats']?.ok && r['pools']?.ok);
    if (r['summary']?.ok) assert.deepEqual(r['summary'].body['SUMMARY'], [{ Elapsed: 10, 'MHS 5s': 1.5 }]);
    // Code 10 "No ASCs" is an empty answer, not a failure.
    assert.ok(r['devs']?.ok);
    if (r['devs']?.ok) assert.equal(r['devs'].empty, true);
  });

  it('a part refused inside the join is asked alone, and Code 45 comes back as access denied', async () => {
    use(cgminerLike);
    const r = await cgminerCommands(target(), ['version', 'devdetails'], signal(), { join: true });
    assert.equal(requests.length, 2);
    assert.deepEqual(JSON.parse(requests[1]!), { command: 'devdetails' });
    assert.ok(r['version']?.ok);
    assert.ok(!r['devdetails']?.ok && ProtoErrors.accessDenied.is(r['devdetails']?.error));
  });

  it('falls back to single commands when the firmware refuses the join (Code 14 at top level)', async () => {
    use((request, socket) => {
      const cmd = String((JSON.parse(request) as { command: string }).command);
      socket.end(`${reply(cmd.includes('+') ? 'nonsense' : cmd)}\0`);
    });
    const r = await cgminerCommands(target(), ['summary', 'pools'], signal(), { join: true });
    assert.deepEqual(
      requests.map((q) => JSON.parse(q)),
      [{ command: 'summary+pools' }, { command: 'summary' }, { command: 'pools' }],
    );
    assert.ok(r['summary']?.ok && r['pools']?.ok);
  });

  it('remembers a refused join per target: the next calls go single at once, the join is retried later', async () => {
    const joinRefused: Behaviour = (request, socket) => {
      const cmd = String((JSON.parse(request) as { command: string }).command);
      socket.end(`${reply(cmd.includes('+') ? 'nonsense' : cmd)}\0`);
    };
    use(joinRefused);
    const memory = new RefusalMemory();
    const opts = { join: true, refusals: memory };
    await cgminerCommands(target(), ['summary', 'pools'], signal(), opts);
    assert.equal(requests.length, 3);
    requests.length = 0;
    const r = await cgminerCommands(target(), ['summary', 'pools'], signal(), opts);
    assert.deepEqual(
      requests.map((q) => JSON.parse(q)),
      [{ command: 'summary' }, { command: 'pools' }],
    );
    assert.ok(r['summary']?.ok && r['pools']?.ok);
    // Another target (same host, other port) is not affected.
    assert.equal(memory.joinRefused(`127.0.0.1:${port + 1}`), false);
    // After RETRY_EVERY polls the join is tried again; a firmware that now joins is read in one request.
    for (let i = 0; i < RETRY_EVERY; i++) memory.tick(`127.0.0.1:${port}`);
    use(cgminerLike);
    await cgminerCommands(target(), ['summary', 'pools'], signal(), opts);
    assert.deepEqual(
      requests.map((q) => JSON.parse(q)),
      [{ command: 'summary+pools' }],
    );
  });

  it('a part refused joined and alone is not asked alone again; its refusal still comes back', async () => {
    use(cgminerLike);
    const memory = new RefusalMemory();
    const opts = { join: true, refusals: memory };
    await cgminerCommands(target(), ['version', 'devdetails', 'nosuch'], signal(), opts);
    assert.deepEqual(
      requests.map((q) => JSON.parse(q).command),
      ['version+devdetails+nosuch', 'devdetails', 'nosuch'],
    );
    requests.length = 0;
    const r = await cgminerCommands(target(), ['version', 'devdetails', 'nosuch'], signal(), opts);
    assert.deepEqual(
      requests.map((q) => JSON.parse(q).command),
      ['version+devdetails+nosuch'],
    );
    assert.ok(r['version']?.ok);
    assert.ok(!r['devdetails']?.ok && ProtoErrors.accessDenied.is(r['devdetails']?.error));
    assert.ok(!r['nosuch']?.ok && ProtoErrors.status.is(r['nosuch']?.error));
    // Without a join (a fallback command), a known refusal is answered from memory: no connection at all.
    requests.length = 0;
    const alone = await cgminerCommands(target(), ['devdetails'], signal(), { refusals: memory });
    assert.equal(requests.length, 0);
    assert.ok(!alone['devdetails']?.ok && ProtoErrors.accessDenied.is(alone['devdetails']?.error));
  });

  it('a target that stops answering is forgotten: its join is tried again when it is back', async () => {
    use((request, socket) => {
      const cmd = String((JSON.parse(request) as { command: string }).command);
      socket.end(`${reply(cmd.includes('+') ? 'nonsense' : cmd)}\0`);
    });
    const memory = new RefusalMemory();
    const opts = { join: true, refusals: memory };
    await cgminerCommands(target(), ['summary', 'pools'], signal(), opts);
    assert.equal(memory.joinRefused(`127.0.0.1:${port}`), true);
    use((_request, socket) => socket.end());
    const down = await cgminerCommands(target(), ['summary', 'pools'], signal(), opts);
    assert.ok(!down['summary']?.ok && ProtoErrors.emptyReply.is(down['summary']?.error));
    // Single commands stop at the first transport failure (a hung rig would cost a timeout per command).
    assert.equal(requests.length, 1);
    assert.ok(!down['pools']?.ok && ProtoErrors.emptyReply.is(down['pools']?.error));
    assert.equal(memory.joinRefused(`127.0.0.1:${port}`), false);
  });

  it('falls back for the parts a joined reply leaves out', async () => {
    use((request, socket) => {
      const cmd = String((JSON.parse(request) as { command: string }).command);
      socket.end(cmd.includes('+') ? `{"summary":[${reply('summary')}],"id":1}\0` : `${reply(cmd)}\0`);
    });
    const r = await cgminerCommands(target(), ['summary', 'pools'], signal(), { join: true });
    assert.equal(requests.length, 2);
    assert.deepEqual(JSON.parse(requests[1]!), { command: 'pools' });
    assert.ok(r['summary']?.ok && r['pools']?.ok);
  });

  it('reads a reply split over several writes with pauses', async () => {
    use(async (_request, socket) => {
      const text = `${reply('stats')}\0`;
      for (let i = 0; i < text.length; i += 7) {
        socket.write(text.slice(i, i + 7));
        if (i % 35 === 0) await sleep(5);
      }
      socket.end();
    });
    const r = await cgminerCommands(target(), ['stats'], signal());
    assert.ok(r['stats']?.ok);
  });

  it('accepts a reply with no NUL that ends at EOF', async () => {
    use((_request, socket) => socket.end(reply('version')));
    const d = await cgminerRequest(target(), { command: 'version' }, signal());
    assert.deepEqual((d.value as { VERSION: unknown }).VERSION, [{ CGMiner: '4.11.1', API: '3.7' }]);
  });

  it('stops at the NUL even when the socket stays open and bytes follow it', async () => {
    const held: net.Socket[] = [];
    use((_request, socket) => {
      socket.write(`${reply('version')}\0\ngarbage`);
      held.push(socket); // never closed by the server: the client must not wait for EOF
    });
    const d = await cgminerRequest(target(), { command: 'version' }, signal());
    assert.ok((d.value as { VERSION?: unknown }).VERSION);
    for (const s of held) s.destroy();
  });

  it('repairs a malformed reply and reports the repair', async () => {
    use((_request, socket) =>
      socket.end(
        '{"STATUS":[{"STATUS":"S","Code":70}],"STATS":[{"Type":"Antminer S9"}{"STATS":0}],"id":1}\0',
      ),
    );
    const r = await cgminerCommands(target(), ['stats'], signal());
    assert.ok(r['stats']?.ok);
    if (r['stats']?.ok) assert.deepEqual(r['stats'].repairs, ['missing-comma-between-objects']);
  });

  it('sends the cmd key and extra fields when asked, in one write', async () => {
    use((_request, socket) => socket.end(`${reply('summary')}\0`));
    await cgminerCommands(target(), ['summary'], signal(), { key: 'cmd', extra: { new_api: true } });
    assert.deepEqual(JSON.parse(requests[0]!), { new_api: true, cmd: 'summary' });
  });

  it('the proxy "Socket connect failed" line is a miner-down error naming the address', async () => {
    use((_request, socket) => socket.end('Socket connect failed: Connection refused\n'));
    const r = await cgminerCommands(target(), ['summary', 'pools'], signal(), { join: true });
    assert.equal(requests.length, 1);
    assert.ok(!r['summary']?.ok && ProtoErrors.minerDown.is(r['summary']?.error));
    assert.match(r['pools']?.ok ? '' : (r['pools']?.error.message ?? ''), /127\.0\.0\.1/);
  });

  it('an accept-then-close is an empty reply for every command, without retrying each', async () => {
    use((_request, socket) => socket.end());
    const r = await cgminerCommands(target(), ['summary', 'pools'], signal(), { join: true });
    assert.equal(requests.length, 1);
    assert.ok(!r['summary']?.ok && ProtoErrors.emptyReply.is(r['summary']?.error));
  });

  it('retries once after a reset in the middle of a reply', async () => {
    let n = 0;
    use(async (_request, socket) => {
      n++;
      if (n === 1) {
        socket.write('{"STATUS":[');
        // Let the bytes leave first, then send an RST (not a FIN) mid-reply.
        await sleep(20);
        socket.resetAndDestroy();
      } else socket.end(`${reply('summary')}\0`);
    });
    const r = await cgminerCommands(target(), ['summary'], signal());
    assert.equal(requests.length, 2);
    assert.ok(r['summary']?.ok);
  });

  it('connection refused is a named error', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await cgminerCommands({ ...target(), port: closedPort }, ['summary'], signal());
    assert.ok(!r['summary']?.ok && ProtoErrors.connectRefused.is(r['summary']?.error));
  });
});

describe('splitJoinedReply', () => {
  it('splits arrays and objects, lists missing parts', () => {
    const v = { summary: [{ SUMMARY: [] }], stats: { STATS: [] }, id: 1 };
    assert.deepEqual(splitJoinedReply(v, ['summary', 'stats', 'pools']), {
      parts: { summary: { SUMMARY: [] }, stats: { STATS: [] } },
      missing: ['pools'],
    });
  });
  it('is null for a reply that is one refused command', () => {
    assert.equal(
      splitJoinedReply({ STATUS: [{ STATUS: 'E', Code: 14 }], id: 1 }, ['summary', 'pools']),
      null,
    );
    assert.equal(splitJoinedReply('x', ['summary']), null);
  });
});

/**
 * tcpRequest against a real loopback server that sends its reply in pieces, as a slow or busy miner does.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtoErrors } from './errors.js';
import { readFixture } from './fixtures.js';
import { tcpRequest } from './tcp.js';

const servers: net.Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** Answers the first request with `pieces`, one write each, `gapMs` apart. */
async function piecewise(pieces: Buffer[], gapMs = 5): Promise<number> {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', async () => {
      for (const p of pieces) {
        if (sock.destroyed) return;
        sock.write(p);
        await sleep(gapMs);
      }
      sock.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

const cut = (b: Buffer, at: number[]) => {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, b.length]) {
    out.push(b.subarray(from, to));
    from = to;
  }
  return out;
};

const request = (port: number, framing: 'nul-or-eof' | 'length-le32', maxBytes = 1 << 20) =>
  tcpRequest({
    host: '127.0.0.1',
    port,
    payload: '{"command":"stats"}',
    connectTimeoutMs: 2000,
    deadlineMs: 5000,
    maxBytes,
    framing,
  });

describe('tcpRequest: replies in pieces', () => {
  const body = readFixture('antminer_s19pro_stats.txt');

  it('a length-prefixed frame split inside its length and its body comes back whole', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    const frame = Buffer.concat([head, body, Buffer.from('trailing bytes are not part of the frame')]);
    const port = await piecewise(cut(frame, [1, 3, 100, 2000]));
    const r = await request(port, 'length-le32');
    assert.equal(r.ended, 'length');
    assert.deepEqual(r.bytes, body);
  });

  it('a frame that announces more than the cap is refused as soon as the length is in', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(1 << 20, 0);
    const port = await piecewise([head.subarray(0, 2), head.subarray(2), Buffer.alloc(10)]);
    await assert.rejects(request(port, 'length-le32', 1000), (e) => ProtoErrors.tooLarge.is(e));
  });

  it('a NUL-terminated reply in one piece or in many gives the same bytes, without the NUL', async () => {
    const withNul = Buffer.concat([body, Buffer.from([0, 10])]);
    const one = await request(await piecewise([withNul]), 'nul-or-eof');
    const many = await request(await piecewise(cut(withNul, [7, 500, 501, body.length])), 'nul-or-eof');
    assert.equal(one.ended, 'nul');
    assert.equal(many.ended, 'nul');
    assert.deepEqual(one.bytes, body);
    assert.deepEqual(many.bytes, body);
  });
});

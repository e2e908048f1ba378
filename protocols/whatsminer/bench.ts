/**
 * Figures for the Whatsminer driver (not a test: prints numbers, asserts nothing about speed).
 *   node --import tsx protocols/whatsminer/bench.ts
 * Measures: parse of a joined M31S poll, MD5-crypt per call, and full driver polls over loopback (API v2 with
 * 4 connections per poll, API v3 with 4 length-prefixed exchanges) against in-process servers replaying fixtures.
 */
import net from 'node:net';
import { readFixture, readFixtureText } from '../fixtures.js';
import { decodeWhatsminer } from './decode.js';
import { createWhatsminerDriver } from './driver.js';
import { encodeV3Frame, takeV3Frame } from './frame.js';
import { parseWhatsminer } from './parse.js';
import { V3_DEVICE_INFO, V3_EDEVS, V3_POOLS, V3_SUMMARY } from './testdata/v3-constructed.js';
import { md5crypt } from './token.js';

function time(label: string, n: number, fn: () => void): void {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const ms = performance.now() - t0;
  console.log(`${label}: ${((ms * 1000) / n).toFixed(1)} µs/op (${n} ops)`);
}

const joined = `{"summary":[${readFixtureText('whatsminer_m31s_summary.txt')}],"devs":[${readFixtureText(
  'whatsminer_m31s_edevs.txt',
)}],"pools":[${readFixtureText('whatsminer_m31s_pools.txt')}],"id":1}`;
time('decode+parse joined M31S summary+devs+pools', 5000, () => {
  const v = decodeWhatsminer(joined).value as Record<string, [unknown]>;
  parseWhatsminer({
    summary: v.summary?.[0] as never,
    devs: v.devs?.[0] as never,
    pools: v.pools?.[0] as never,
  });
});
const repaired = readFixture('whatsminer_m20s_summary_2.txt');
time("decode (with \\' repair) + parse M20S summary", 5000, () => {
  parseWhatsminer({ summary: decodeWhatsminer(repaired).value });
});
time('md5crypt', 500, () => {
  md5crypt('admin', 'BQ5hoXV9');
});

async function listen(handler: (sock: net.Socket) => void): Promise<net.Server> {
  const s = net.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

const v2 = await listen((sock) => {
  sock.once('data', (chunk) => {
    const req = JSON.parse(chunk.toString()) as Record<string, string>;
    const c = req.command ?? req.cmd;
    const reply =
      c === 'summary+devs+pools'
        ? joined
        : c === 'status'
          ? readFixtureText('whatsminer_m31s_status.txt')
          : '{"STATUS":"E","When":1,"Code":14,"Msg":"invalid cmd","Description":"whatsminer v1.3"}';
    sock.end(`${reply}\0`);
  });
  sock.on('error', () => {});
});
const v3 = await listen((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const f = takeV3Frame(buf);
    if (!f) return;
    const req = JSON.parse(f.body.toString()) as Record<string, string>;
    const reply =
      req.cmd === 'get.device.info'
        ? V3_DEVICE_INFO
        : req.param === 'summary'
          ? V3_SUMMARY
          : req.param === 'edevs'
            ? V3_EDEVS
            : V3_POOLS;
    sock.end(encodeV3Frame(reply));
  });
  sock.on('error', () => {});
});

const target = (port: number) => ({
  host: '127.0.0.1',
  port,
  family: 'whatsminer' as const,
  connectTimeoutMs: 2000,
  commandTimeoutMs: 5000,
  maxReplyBytes: 1 << 20,
});

for (const [label, port, v3Port] of [
  ['driver poll API v2 over loopback (join + status)', portOf(v2), portOf(v3)],
  ['driver poll API v3 over loopback (4 frames)', portOf(v3), portOf(v3)],
] as const) {
  const driver = createWhatsminerDriver({ v3Port });
  await driver.poll(target(port), AbortSignal.timeout(5000));
  const n = 300;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await driver.poll(target(port), AbortSignal.timeout(5000));
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(n - 1, Math.floor(p * n))]!.toFixed(2);
  console.log(`${label}: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms (${n} polls)`);
}
v2.close();
v3.close();

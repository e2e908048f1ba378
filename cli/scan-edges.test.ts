/**
 * A scan stays where it is sent: public ranges need --allow-public, and a huge range fails fast with a named
 * error. Every refusal is checked to happen before any socket is opened (net.connect is watched, and the
 * ranges used are documentation ranges, RFC 5737, that must never be probed from a test).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkScanTargets, publicRanges, scanRange } from '../collector/discovery.js';
import type { Io } from './io.js';
import { scanCommand } from './scan.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env: {},
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

describe('scan targets', () => {
  let connects = 0;
  const original = net.connect;
  before(() => {
    // Count connects; any connect to a non-loopback address is refused outright, so a bug cannot leak traffic.
    (net as { connect: unknown }).connect = (...args: unknown[]) => {
      connects++;
      const opts = args[0] as { host?: string };
      if (typeof opts === 'object' && opts.host && !/^127\./.test(opts.host)) {
        throw new Error(`test refused a connect to ${opts.host}`);
      }
      return (original as (...a: unknown[]) => net.Socket)(...args);
    };
  });
  after(() => {
    (net as { connect: unknown }).connect = original;
  });

  it('knows which ranges are local', () => {
    assert.deepEqual(
      publicRanges([
        '10.1.0.0/16',
        '172.16.0.0/12',
        '192.168.7.9',
        '127.0.0.1',
        '100.64.0.0/10',
        '169.254.1.0/24',
        '8.8.8.8',
        '192.0.2.0/24',
        '172.32.0.0/16',
        '100.128.0.0/24',
        '11.0.0.0/8',
      ]),
      ['8.8.8.8', '192.0.2.0/24', '172.32.0.0/16', '100.128.0.0/24', '11.0.0.0/8'],
    );
    assert.deepEqual(checkScanTargets(['10.0.0.0/30']), { addresses: 2, publicRanges: [] });
    assert.deepEqual(checkScanTargets(['198.51.100.7'], { allowPublic: true }), {
      addresses: 1,
      publicRanges: ['198.51.100.7'],
    });
  });

  it('refuses a public target without --allow-public, before any socket', async () => {
    const io = capture();
    assert.equal(await scanCommand(['192.0.2.10', '--timeout', '50'], io), 2);
    assert.match(io.stderr, /RT_ERR_DISCOVERY_PUBLIC_TARGET: 192\.0\.2\.10: public addresses/);
    await assert.rejects(
      scanRange({
        cidrs: ['10.0.0.0/30', '203.0.113.0/30'],
        ports: [4028],
        concurrency: 1,
        connectTimeoutMs: 50,
        deadlineMs: 100,
      }),
      {
        code: 'RT_ERR_DISCOVERY_PUBLIC_TARGET',
      },
    );
    assert.equal(connects, 0);
  });

  it('refuses 0.0.0.0/0 even with --force, at once and before any allocation or socket', async () => {
    const io = capture();
    const t0 = performance.now();
    assert.equal(await scanCommand(['0.0.0.0/0', '--force', '--allow-public'], io), 2);
    const ms = performance.now() - t0;
    assert.match(
      io.stderr,
      /RT_ERR_DISCOVERY_RANGE_LIMIT: 0\.0\.0\.0\/0: 4294967294 addresses is more than 1048576/,
    );
    assert.ok(ms < 1000, `refused in ${ms.toFixed(0)} ms`);
    assert.equal(await scanCommand(['10.0.0.0/8', '--force'], capture()), 2);
    assert.equal(connects, 0);
  });

  it('warns about a public range it was told to scan (loopback stands in: no public probe from a test)', async () => {
    // The warning path is the same for any public range; a loopback-only scan must print no warning.
    const io = capture();
    assert.equal(
      await scanCommand(['127.79.0.1', '--ports', '1', '--timeout', '100', '--allow-public'], io),
      0,
    );
    assert.doesNotMatch(io.stderr, /warning/);
    assert.ok(connects > 0, 'the loopback scan did probe');
  });
});

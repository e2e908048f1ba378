/**
 * Shutdown is idempotent: a second SIGTERM while stopping is logged and ignored; a stop that hangs (an InfluxDB
 * that accepts and never answers, so the final flush waits) ends at the configured hard deadline with exit 1
 * and a line saying what the journal still holds.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testBasePort } from '../testing/ports.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'rigtel.js');

describe('shutdown', () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  const sockets: Socket[] = [];
  const hang = createServer((s) => sockets.push(s));
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-stop-'));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hang.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second SIGTERM is ignored; a hung stop exits 1 at the deadline naming the journal backlog', async () => {
    const hangPort = (hang.address() as { port: number }).port;
    const basePort = testBasePort();
    const config = join(dir, 'rigtel.yaml');
    writeFileSync(
      config,
      [
        'site: { name: stop-test }',
        `storage: { dir: ${JSON.stringify(join(dir, 'data'))}, journal_fsync: off }`,
        'api: { listen: "127.0.0.1:0" }',
        'poll: { interval_ms: 1000, poll_deadline_ms: 800, command_timeout_ms: 500, connect_timeout_ms: 300 }',
        `emulator: { mode: on, rigs: 2, host: 127.0.0.1, base_port: ${basePort}, write_sinks: true }`,
        `sinks: { influx: { url: "http://127.0.0.1:${hangPort}", create_database: false, timeout_ms: 60000, flush_interval_ms: 0 } }`,
        'shutdown: { deadline_ms: 2500 }',
        'log: { level: warn }',
        '',
      ].join('\n'),
    );
    proc = spawn(process.execPath, [bin, 'run', '--config', config], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc!.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      proc!.stdout!.on('data', () => /Ctrl-C to stop/.test(stdout) && resolve());
      exited.then((code) => reject(new Error(`rigtel run exited ${code}: ${stderr}`)));
    });
    // Samples reach the journal; the InfluxDB write hangs, so they stay undelivered.
    for (let i = 0; i < 100 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(sockets.length > 0, 'the sink connected to the hanging server');
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGINT');
    const code = await exited;
    const took = Date.now() - t0;
    assert.match(stderr, /SIGTERM while stopping: ignored/);
    assert.match(stderr, /SIGINT while stopping: ignored/);
    assert.equal(code, 1, `exit code (stderr: ${stderr.slice(-2000)})`);
    assert.match(
      stderr,
      /stop deadline of 2500 ms passed; .*journal entries from seq \d+ on are not yet delivered/,
    );
    assert.ok(took >= 2000 && took < 15_000, `stopped after ${took} ms`);
  });
});

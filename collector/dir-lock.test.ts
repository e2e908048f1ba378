/**
 * One owner per storage dir: the lock file itself, and two real `rigtel run` processes on one dir — the second
 * exits with RT_ERR_STORAGE_LOCKED naming the first, and the first keeps serving.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testBasePort } from '../testing/ports.js';
import { LOCK_FILE, lockDir } from './dir-lock.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'rigtel.js');

describe('storage dir lock', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a second lock on a held dir is refused with the holder named; release frees it', () => {
    const first = lockDir(dir);
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    assert.equal(held.pid, process.pid);
    assert.throws(
      () => lockDir(dir),
      (err: Error & { code?: string }) =>
        err.code === 'RT_ERR_STORAGE_LOCKED' && err.message.includes(`process ${process.pid}`),
    );
    first.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    lockDir(dir).release();
  });

  test('a lock left by a process that is gone is taken over', async () => {
    // A PID that surely ran and exited: a child we wait for.
    const gone = await new Promise<number>((resolve) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.on('exit', () => resolve(c.pid!));
    });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: gone, host: hostname(), started_ms: 0 }));
    const lock = lockDir(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    lock.release();
  });

  test('a lock held on another host is never taken over', () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', started_ms: 0 }));
    assert.throws(() => lockDir(dir), /in use by rigtel process 1 on elsewhere/);
    rmSync(join(dir, LOCK_FILE));
  });
});

describe('two rigtel run on one storage dir', () => {
  let dir: string;
  let first: ChildProcess | undefined;
  after(() => {
    if (first && first.exitCode === null) first.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the second exits with RT_ERR_STORAGE_LOCKED naming the first, which keeps running', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-lock-run-'));
    const configFor = (name: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [
          `site: { name: ${name} }`,
          `storage: { dir: ${JSON.stringify(join(dir, 'data'))}, journal_fsync: off }`,
          'api: { listen: "127.0.0.1:0" }',
          'poll: { interval_ms: 2000, poll_deadline_ms: 1500, command_timeout_ms: 1000, connect_timeout_ms: 500 }',
          `emulator: { mode: on, rigs: 2, host: 127.0.0.1, base_port: ${testBasePort()} }`,
          'log: { level: warn }',
          '',
        ].join('\n'),
      );
      return file;
    };
    // Other tests on this machine take ports too: a clash on the random emulator block tries another.
    let base = '';
    for (let attempt = 0; !base; attempt++) {
      const proc = spawn(process.execPath, [bin, 'run', '--config', configFor('one')], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      first = proc;
      let stdout = '';
      let stderr = '';
      proc.stdout!.on('data', (d) => (stdout += d));
      proc.stderr!.on('data', (d) => (stderr += d));
      try {
        base = await new Promise<string>((resolve, reject) => {
          proc.stdout!.on('data', () => {
            const m = /API\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
            if (m) resolve(m[1]!);
          });
          proc.on('exit', (code) => reject(new Error(`first rigtel run exited ${code}: ${stderr}`)));
        });
      } catch (err) {
        if (attempt >= 4 || !/EADDRINUSE/.test(String(err))) throw err;
      }
    }
    assert.ok(first);

    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [bin, 'run', '--config', configFor('two')],
        { cwd: root, timeout: 60_000 },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`^RT_ERR_STORAGE_LOCKED: .* in use by rigtel process ${first.pid} `, 'm'),
    );

    // The first still polls and serves.
    const fleet = (await (await fetch(`${base}/v1/fleet`)).json()) as { site: string; rigs: number };
    assert.equal(fleet.site, 'one');
    assert.equal(first.exitCode, null);
    const exited = new Promise<number | null>((resolve) => first!.on('exit', (code) => resolve(code)));
    first.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dir, 'data', LOCK_FILE)), false, 'the lock is released on a clean stop');
  });
});

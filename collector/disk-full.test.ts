/**
 * A full disk under the journal: a real size-capped tmpfs (mount -t tmpfs -o size=…; needs root, skipped with a
 * reason otherwise). Every sample of a failed append is counted, /healthz is 503 saying why, /metrics counts
 * the failures, and appends succeed again, by themselves, once space returns.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildApp } from '../api/app.js';
import { validateConfig } from '../config/load.js';
import { emptyReading } from '../protocols/sample.js';
import { Journal } from './journal.js';
import { toSample } from './poll.js';
import type { FleetView, HistoryStore } from './views.js';

function samples(n: number, from: number) {
  return Array.from({ length: n }, (_, i) => {
    const r = emptyReading('antminer');
    r.state = 'mining';
    r.hashrate_hs = 100e12;
    r.notes.push('x'.repeat(400));
    return toSample(r, {
      rigId: `r${i}`,
      site: 's',
      address: '127.0.0.1:1',
      atMs: from + i,
      ok: true,
      durationMs: 1,
      error: null,
    });
  });
}

/** Fill the file system with one file until it refuses a byte. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // Whatever a 64 KiB chunk could not take: fill to the last byte.
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512, 1));
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
}

describe('journal on a full disk', () => {
  it('counts every lost sample, says why in /healthz and /metrics, resumes when space returns', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-diskfull-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      rmdirSync(dir);
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    t.after(() => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    const j = Journal.open(dir, { fsync: 'always', maxBytes: 1e9, diskLowBytes: 512 * 1024 });
    const app = buildApp({
      fleet: { list: () => [], get: () => undefined } as unknown as FleetView,
      history: { history: () => [], rigIds: () => [] } as unknown as HistoryStore,
      health: {
        started_ms: Date.now(),
        sinks: () => [],
        polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
        journal: () => j.pressure(),
      } as never,
      config: validateConfig({}),
    });
    t.after(() => app.close());

    let stored = 0;
    let attempted = 0;
    const appendBatch = (n: number): boolean => {
      attempted += n;
      try {
        j.append(samples(n, attempted));
        stored += n;
        return true;
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'RT_ERR_JOURNAL_WRITE');
        return false;
      }
    };
    for (let i = 0; i < 5; i++) assert.ok(appendBatch(10));
    assert.equal((await app.inject('/healthz')).statusCode, 200);

    const filler = join(dir, 'filler');
    fill(filler);
    let failed = 0;
    for (let i = 0; i < 40; i++) if (!appendBatch(7)) failed++;
    assert.ok(failed >= 30, `${failed} of 40 appends failed on a full disk`);
    const p = j.pressure();
    assert.equal(p.write_failures, failed);
    assert.equal(p.write_lost_samples, attempted - stored, 'every sample of a failed append is counted');
    assert.notEqual(p.write_error, null);
    const h = await app.inject('/healthz');
    assert.equal(h.statusCode, 503);
    assert.match(
      h.body,
      /journal cannot write since .*SQLITE_FULL|journal cannot write since .*(full|space)/i,
    );
    assert.match(h.body, new RegExp(`${attempted - stored} samples lost so far in ${failed} failed writes`));
    const m = (await app.inject('/metrics')).body;
    assert.match(m, new RegExp(`^rigtel_journal_write_failures_total ${failed}$`, 'm'));
    assert.match(m, new RegExp(`^rigtel_journal_lost_samples_total ${attempted - stored}$`, 'm'));
    assert.match(m, /^rigtel_journal_write_failing 1$/m);

    // Space returns: the next append succeeds by itself, health clears, the counters keep the history.
    rmSync(filler);
    assert.ok(appendBatch(10), 'writes resume once space returns');
    const after = j.pressure();
    assert.equal(after.write_error, null);
    assert.equal(after.write_lost_samples, attempted - stored - 0);
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    // What the journal holds is exactly what was stored.
    assert.equal(j.read(0, 100_000).length, stored);
    await j.close();
  });
});

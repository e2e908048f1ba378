// Skipped polls from the real scheduler reach the store, per rig and reason, and the health counters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import type { MinerDriver } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading } from '../protocols/sample.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'rigtel-skips-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('a slow rig, a dead one, one slot: every due slot is polled or its skip is stored with its reason', async () => {
  const cfg = validateConfig({
    storage: { dir, journal_fsync: 'off' },
    // One poll at a time and a rig that takes most of the interval: the others queue behind it.
    poll: { interval_ms: 1000, poll_deadline_ms: 950, backoff_max_ms: 4000, concurrency: 1 },
    rigs: [
      { name: 'slow', address: '127.0.0.1:41001' },
      { name: 'dead', address: '127.0.0.1:41002' },
      { name: 'fine', address: '127.0.0.1:41003' },
      { name: 'slow2', address: '127.0.0.1:41004' },
    ],
  });
  const driverFor = (): MinerDriver => ({
    family: 'antminer',
    poll: (t, signal) =>
      new Promise((resolve, reject) => {
        if (t.port === 41002) {
          reject(ProtoErrors.connectRefused('127.0.0.1:41002'));
          return;
        }
        const timer = setTimeout(
          () => {
            const r = emptyReading('antminer');
            r.state = 'mining';
            resolve(r);
          },
          t.port === 41001 || t.port === 41004 ? 900 : 5,
        );
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ProtoErrors.aborted('x'));
        });
      }),
  });
  const collector = await startCollector(cfg, targetsFromConfig(cfg), { log: silentLogger, driverFor });
  await new Promise((r) => setTimeout(r, 6500));
  const polls = collector.health.polling().polls!;
  await collector.stop();
  const sum = polls.skipped.skipped_busy + polls.skipped.deadline + polls.skipped.backoff;
  assert.equal(polls.due, polls.started + sum + polls.owed, 'nothing unaccounted for');
  assert.ok(polls.skipped.backoff > 0, 'the dead rig sat slots out');
  assert.ok(
    polls.skipped.skipped_busy + polls.skipped.deadline > 0,
    'one slot cannot serve two 900 ms rigs a second',
  );
  // The store has every skip, by rig and reason (stop() flushed the last ones).
  const { EmbeddedStore } = await import('./sinks/embedded.js');
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 24,
    rollupRetentionDays: 1,
    intervalMs: 1000,
    backoffMaxMs: 4000,
  });
  try {
    const from = Date.now() - 3_600_000;
    const to = Date.now() + 3_600_000;
    const slow = store.skipsOf('slow', from, to);
    const dead = store.skipsOf('dead', from, to);
    const fine = store.skipsOf('fine', from, to);
    const slow2 = store.skipsOf('slow2', from, to);
    assert.equal(slow.backoff, undefined, 'the slow rig answers: never in backoff');
    assert.equal(fine.backoff, undefined);
    assert.ok((dead.backoff ?? 0) > 0);
    for (const reason of ['skipped_busy', 'deadline', 'backoff'] as const) {
      assert.equal(
        (slow[reason] ?? 0) + (dead[reason] ?? 0) + (fine[reason] ?? 0) + (slow2[reason] ?? 0),
        polls.skipped[reason],
        `${reason}: stored = counted`,
      );
    }
  } finally {
    await store.close();
  }
});

/**
 * The embedded store with `writer: 'thread'`: samples, skipped polls and identity bindings are written by the
 * writer thread's own connection, the main thread's connection only reads them, and a writer thread that dies
 * fails the write in flight (the fan-out retries it) and is started again by the next one. The thread also
 * checkpoints the journal, which then starts no checkpoint worker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import type { RtError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { emptyReading } from '../../protocols/sample.js';
import { IdentityMap } from '../identity.js';
import { Journal } from '../journal.js';
import { toSample } from '../poll.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded.js';
import type { JournalEntry } from './sink.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const INTERVAL = 15_000;
const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - HOUR; // last hour: the writer thread uses the real clock
const OPTS: EmbeddedStoreOptions = {
  rawRetentionHours: 24,
  rollupRetentionDays: 30,
  intervalMs: INTERVAL,
  backoffMaxMs: 60_000,
};

let seq = 0;
function entry(rig: string, at: number, watts = 3000): JournalEntry {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 100e12;
  r.power_w = watts;
  r.power_source = 'miner';
  r.temp_chip_max_c = 70;
  r.identity.model = 'Antminer S19';
  const sample = toSample(r, {
    rigId: rig,
    site: 's',
    address: '127.0.0.1:4028',
    atMs: at,
    ok: true,
    durationMs: 5,
    error: null,
  });
  return { seq: ++seq, sample };
}

/** Rows this connection changed since it opened: 0 means it never wrote. */
function changesBy(store: EmbeddedStore): number {
  return (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

function capture(): { log: Logger; lines: Array<{ level: string; msg: string | undefined }> } {
  const lines: Array<{ level: string; msg: string | undefined }> = [];
  const at = (level: string) => (_obj: object, msg?: string) => void lines.push({ level, msg });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('embedded store writes on the writer thread', () => {
  it('writes samples, skips and identity bindings from the thread; the main connection only reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-writer-'));
    dirs.push(dir);
    const { log, lines } = capture();
    const store = EmbeddedStore.open(dir, { ...OPTS, log, writer: 'thread' });
    await store.open();
    const identity = new IdentityMap(store.db, store.bindingWriter());
    const before = changesBy(store);

    const batch = Array.from({ length: 40 }, (_, i) => entry(`rig-${i % 4}`, T0 + 60_000 + i * INTERVAL));
    await store.write(batch);
    // A replay of the same batch (after a crash) inserts nothing twice.
    await store.write(batch);
    store.recordSkips([{ rig_id: 'rig-0', at_ms: T0 + 60_000, reason: 'deadline' }]);
    identity.resolve({ address: '10.0.0.9:4028', name: 'rack-1' }, 'aa:bb:cc:00:00:09', T0);
    identity.flush();
    // An entry the store cannot use: logged by the thread, through this thread's logger.
    await store.write([{ seq: ++seq, sample: { at_ms: T0 } as never }]);

    // Where each rig was polled, written by the thread and read here.
    assert.equal(store.placeIn('rig-0', T0, T0 + 2 * HOUR), '127.0.0.1:4028');
    const rollups = store.rollups('rig-0', T0, T0 + 2 * HOUR);
    assert.equal(
      rollups.reduce((a, r) => a + r.polls, 0),
      10,
      'ten polls of rig-0, once each',
    );
    assert.equal(rollups[0]?.power_w, 3000);
    assert.deepEqual(store.skipsOf('rig-0', T0, T0 + 2 * HOUR), { deadline: 1 });
    const detail = store.detail('rig-1', T0 + 60_000 + INTERVAL) as { identity: { model: string } } | null;
    assert.equal(detail?.identity.model, 'Antminer S19');
    const bound = store.db.prepare('SELECT rig_id FROM rig_aliases WHERE alias = ?').get('name:rack-1') as
      | { rig_id: string }
      | undefined;
    assert.equal(bound?.rig_id, 'aa:bb:cc:00:00:09');
    assert.ok(
      lines.some((l) => l.level === 'warn' && /without rig_id/.test(l.msg ?? '')),
      'the thread logs through the owner',
    );
    assert.equal(changesBy(store) - before, 0, 'the main connection wrote nothing');
    await store.close();

    // Everything is in the file: an inline store opened afterwards reads it back.
    const again = EmbeddedStore.open(dir, OPTS);
    try {
      assert.equal((again.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n, 40);
      assert.deepEqual(again.skipsOf('rig-0', T0, T0 + 2 * HOUR), { deadline: 1 });
    } finally {
      await again.close();
    }
  });

  it('stores exactly what an inline store stores, though the thread is sent only the stored fields', async () => {
    const rows = async (writer: 'inline' | 'thread') => {
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-writer-'));
      dirs.push(dir);
      const store = EmbeddedStore.open(dir, { ...OPTS, writer });
      await store.open();
      seq = 0;
      const batch = Array.from({ length: 12 }, (_, i) => {
        const e = entry(`rig-${i % 3}`, T0 + i * INTERVAL, 3000 + i);
        // A partial reading keeps its raw reply for the live view; the store does not keep it.
        e.sample.raw = i % 2 ? '{"STATUS":[{"STATUS":"S"}],"x":1}' : null;
        e.sample.notes.push(`note ${i}`);
        e.sample.boards = [{ index: i, hashrate_hs: 1e12 * i, temp_chip_c: 60 + i } as never];
        return e;
      });
      await store.write(batch);
      const read = (sql: string) => store.db.prepare(sql).all();
      const out = {
        readings: read('SELECT * FROM readings ORDER BY id'),
        details: read('SELECT * FROM details ORDER BY id'),
        rollups: read('SELECT * FROM rollups ORDER BY rig_id, hour_ms'),
        last: read('SELECT * FROM rig_last ORDER BY rig_id'),
      };
      await store.close();
      return out;
    };
    const inline = await rows('inline');
    assert.equal(inline.readings.length, 12);
    assert.deepEqual(await rows('thread'), inline);
  });

  it('a writer thread that dies fails the write in flight with RT_ERR_STORE_WRITE; the next write starts another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-writer-'));
    dirs.push(dir);
    const store = EmbeddedStore.open(dir, { ...OPTS, writer: 'thread' });
    await store.open();
    try {
      await store.write([entry('rig-a', T0 + 1000)]);
      // What a crash of the thread looks like from here: the worker is gone while a write is out.
      const thread = (store as unknown as { thread: { worker: Worker; restarts: number } }).thread;
      const inFlight = store.write([entry('rig-a', T0 + 1000 + INTERVAL)]);
      await thread.worker.terminate();
      await assert.rejects(inFlight, (err: RtError) => err.code === 'RT_ERR_STORE_WRITE');
      assert.equal(thread.restarts, 1);
      await store.write([entry('rig-a', T0 + 1000 + INTERVAL), entry('rig-a', T0 + 1000 + 2 * INTERVAL)]);
      const n = store.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number };
      // The failed write may or may not have committed before the thread ended; its retry is not stored twice.
      assert.equal(n.n, 3);
    } finally {
      await store.close();
    }
  });

  it('checkpoints the journal it is given, which starts no checkpoint worker of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-writer-'));
    dirs.push(dir);
    const journal = Journal.open(dir, { fsync: 'off', maxBytes: 1e9, checkpointedElsewhere: true });
    const dbBytes = () => statSync(journal.file).size;
    let store: EmbeddedStore | null = null;
    try {
      for (let i = 0; i < 20; i++)
        journal.append(Array.from({ length: 100 }, (_, k) => entry(`rig-${k}`, T0 + i * INTERVAL).sample));
      const before = dbBytes();
      // Nobody checkpoints yet: every append stays in the WAL, the database file keeps its size.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(dbBytes(), before);
      store = EmbeddedStore.open(dir, { ...OPTS, writer: 'thread', checkpointFiles: [journal.file] });
      await store.open();
      const deadline = Date.now() + 5000;
      while (dbBytes() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // The thread's checkpoint copied the WAL's pages (~2,000 samples) into the file.
      assert.ok(dbBytes() > before + 100_000, `${before} → ${dbBytes()}`);
    } finally {
      await store?.close();
      await journal.close();
    }
  });
});

import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { Journal, type Logger } from './journal.js';
import { toSample } from './poll.js';
import { EmbeddedStore } from './sinks/embedded.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-journal-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sample(i: number): Sample {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 100e12 + i;
  return toSample(r, {
    rigId: `rig-${i % 5}`,
    site: 's',
    address: `127.0.0.1:${4000 + (i % 5)}`,
    atMs: 1_700_000_000_000 + i * 1000,
    ok: true,
    durationMs: 1,
    error: null,
  });
}

function capture(): Logger & { warns: { obj: Record<string, unknown>; msg?: string }[] } {
  const warns: { obj: Record<string, unknown>; msg?: string }[] = [];
  return {
    warns,
    debug() {},
    info() {},
    error() {},
    warn(obj: object, msg?: string) {
      warns.push({ obj: obj as Record<string, unknown>, msg });
    },
  };
}

describe('journal', () => {
  it('appends, reads in order, acks per sink and trims what every sink has', async () => {
    const j = Journal.open(tmp(), { fsync: 'off', maxBytes: 10_000_000 });
    assert.equal(j.lastSeq(), 0);
    assert.equal(j.append([sample(1)]), 1);
    assert.equal(j.append([sample(2), sample(3), sample(4)]), 4);
    const all = j.read(0, 100);
    assert.deepEqual(
      all.map((e) => e.seq),
      [1, 2, 3, 4],
    );
    assert.equal(all[2]!.sample.hashrate_hs, 100e12 + 3);
    assert.deepEqual(
      j.read(2, 1).map((e) => e.seq),
      [3],
    );
    j.register('a');
    j.register('b');
    assert.equal(j.acked('a'), 0, 'a new sink starts at 0 and replays what the journal holds');
    j.ack('a', 3);
    j.ack('b', 2);
    j.ack('a', 1); // never goes back
    assert.equal(j.acked('a'), 3);
    j.trim();
    assert.deepEqual(
      j.read(0, 100).map((e) => e.seq),
      [3, 4],
      'only entries both sinks acked are trimmed',
    );
    assert.equal(j.pressure().oldest_unacked_seq, 3);
    j.ack('b', 4);
    j.ack('a', 4);
    j.trim();
    assert.equal(j.read(0, 100).length, 0);
    assert.equal(j.sizeBytes(), 0);
    assert.equal(j.pressure().oldest_unacked_seq, null);
    await j.close();
  });

  it('with fsync always, syncs the WAL off the event loop after each append and reports appends not yet synced', async () => {
    const j = Journal.open(tmp(), { fsync: 'always', maxBytes: 10_000_000 });
    j.append([sample(1), sample(2)]);
    j.append([sample(3)]);
    // Committed (readable) at once; the fsync completes in the thread pool moments later.
    assert.equal(j.read(0, 10).length, 3);
    const until = Date.now() + 5000;
    while (j.pressure().unsynced_appends > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(j.pressure().unsynced_appends, 0);
    assert.equal(j.pressure().fsync_error, null);
    await j.close();
    const off = Journal.open(tmp(), { fsync: 'off', maxBytes: 10_000_000 });
    off.append([sample(1)]);
    assert.equal(off.pressure().unsynced_appends, 0, 'fsync off: nothing is waited for');
    await off.close();
  });

  it('keeps seqs and offsets across reopen, and never reuses a seq after a trim', async () => {
    const dir = tmp();
    let j = Journal.open(dir, { fsync: 'always', maxBytes: 10_000_000 });
    j.register('store');
    j.append([sample(1), sample(2)]);
    j.ack('store', 2);
    j.trim();
    await j.close();
    j = Journal.open(dir, { fsync: 'always', maxBytes: 10_000_000 });
    assert.equal(j.lastSeq(), 2);
    assert.equal(j.acked('store'), 2);
    assert.equal(j.append([sample(3)]), 3);
    await j.close();
  });

  it('warns before dropping, drops only the oldest unacked when full, and counts them', async () => {
    const log = capture();
    const one = Buffer.byteLength(JSON.stringify(sample(1)));
    // Room for 10 samples; warning at 75%.
    const j = Journal.open(tmp(), { fsync: 'off', maxBytes: one * 10 + 5, warnRatio: 0.75, log });
    j.register('down');
    for (let i = 1; i <= 7; i++) j.append([sample(i)]);
    assert.equal(log.warns.length, 0);
    assert.equal(j.pressure().will_drop, false);
    j.append([sample(8)]);
    assert.equal(j.pressure().will_drop, true, 'pressure shows the coming drop');
    assert.equal(log.warns.length, 1);
    assert.equal(log.warns[0]!.obj.code, 'RT_ERR_JOURNAL_NEAR_FULL');
    assert.equal(j.pressure().dropped_entries, 0, 'nothing dropped yet');
    for (let i = 9; i <= 14; i++) j.append([sample(i)]);
    const p = j.pressure();
    assert.ok(p.used_bytes <= p.max_bytes);
    assert.equal(p.dropped_entries, 4);
    const seqs = j.read(0, 100).map((e) => e.seq);
    assert.deepEqual(seqs, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], 'the oldest went, the newest stay');
    const drops = log.warns.filter((w) => w.obj.code === 'RT_ERR_JOURNAL_DROPPED');
    assert.ok(drops.length >= 1);
    assert.deepEqual(drops[0]!.obj.sinks_behind, ['down']);
    // The drop happened after the warning.
    assert.equal(log.warns[0]!.obj.code, 'RT_ERR_JOURNAL_NEAR_FULL');
    await j.close();
  });

  it('estimates when a lagging sink will make it drop, and stops estimating once it caught up', async () => {
    let now = 1_000_000;
    const one = Buffer.byteLength(JSON.stringify(sample(1)));
    const j = Journal.open(tmp(), { fsync: 'off', maxBytes: one * 100, now: () => now });
    j.register('slow');
    for (let i = 1; i <= 10; i++) {
      j.append([sample(i)]);
      now += 1000;
    }
    const p = j.pressure();
    assert.equal(p.oldest_unacked_seq, 1);
    // ~one sample per second, ~90 samples of room left: about 90 s from the last append.
    assert.ok(p.drop_at_estimate_ms !== null);
    const eta = p.drop_at_estimate_ms - (now - 1000);
    assert.ok(eta > 80_000 && eta < 100_000, `eta ${eta}`);
    j.ack('slow', 10);
    j.trim();
    assert.equal(j.pressure().drop_at_estimate_ms, null);
    assert.equal(j.pressure().oldest_unacked_seq, null);
    await j.close();
  });

  it('drops acknowledged entries first, without a drop warning', async () => {
    const log = capture();
    const one = Buffer.byteLength(JSON.stringify(sample(1)));
    const j = Journal.open(tmp(), { fsync: 'off', maxBytes: one * 4 + 5, log });
    j.register('up');
    for (let i = 1; i <= 4; i++) {
      j.append([sample(i)]);
      j.ack('up', i);
    }
    j.append([sample(5)]);
    assert.equal(j.pressure().dropped_entries, 0);
    assert.equal(log.warns.filter((w) => w.obj.code === 'RT_ERR_JOURNAL_DROPPED').length, 0);
    await j.close();
  });

  it('refuses a corrupt or truncated database with a named error', async () => {
    const garbage = tmp();
    writeFileSync(join(garbage, 'journal.db'), Buffer.alloc(8192, 0x41));
    assert.throws(
      () => Journal.open(garbage, { fsync: 'off', maxBytes: 1e6 }),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_JOURNAL_CORRUPT',
    );

    const cut = tmp();
    const j = Journal.open(cut, { fsync: 'always', maxBytes: 1e9 });
    for (let i = 0; i < 200; i++) j.append([sample(i), sample(i + 1), sample(i + 2)]);
    await j.close(); // checkpoints the WAL into the main file
    truncateSync(join(cut, 'journal.db'), 4096 * 3);
    assert.throws(
      () => Journal.open(cut, { fsync: 'off', maxBytes: 1e6 }),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_JOURNAL_CORRUPT',
    );

    assert.throws(
      () => Journal.open(join(cut, 'no', 'such', 'dir'), { fsync: 'off', maxBytes: 1e6 }),
      (e: unknown) => (e as { code?: string }).code === 'RT_ERR_JOURNAL_OPEN',
    );
  });

  /** Run the child writer, SIGKILL it once it acknowledged `count` seqs; returns the acknowledged seqs. */
  async function killMidStream(dir: string, mode: string, count: number): Promise<number[]> {
    const child = fork(fileURLToPath(new URL('./journal.child.fixture.ts', import.meta.url)), [dir, mode], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const acked: number[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (/^\d+$/.test(line)) acked.push(Number(line));
          nl = buf.indexOf('\n');
        }
        if (acked.length >= count && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    assert.equal(child.signalCode, 'SIGKILL', 'the writer was killed mid-stream');
    assert.ok(acked.length >= count);
    return acked;
  }

  it('keeps every acknowledged append across kill -9 (fsync always)', async () => {
    const dir = tmp();
    const acked = await killMidStream(dir, 'journal', 300);
    const j = Journal.open(dir, { fsync: 'always', maxBytes: 1e9 });
    const held = new Set(j.read(0, 1_000_000).map((e) => e.seq));
    const missing = acked.filter((s) => !held.has(s));
    assert.deepEqual(missing, [], 'every seq acknowledged before the kill is in the journal');
    assert.ok(j.lastSeq() >= acked[acked.length - 1]!);
    await j.close();
  });

  it('after kill -9, every acknowledged sample is in the store (if the store acked it) or still in the journal', async () => {
    const dir = tmp();
    const acked = await killMidStream(dir, 'store', 600);
    const j = Journal.open(dir, { fsync: 'always', maxBytes: 1e9 });
    const storeAcked = j.acked('embedded');
    const held = new Set(j.read(0, 1_000_000).map((e) => e.seq));
    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 1e6,
      rollupRetentionDays: 1e6,
      intervalMs: 1000,
      backoffMaxMs: 0,
    });
    const has = store.db.prepare('SELECT 1 FROM samples WHERE rig_id = ? AND at_ms = ?');
    const lost = acked.filter((seq) =>
      seq <= storeAcked ? has.get(`r${seq % 7}`, seq) === undefined : !held.has(seq),
    );
    assert.deepEqual(lost, []);
    assert.ok(storeAcked > 0, 'the store had acknowledged some entries before the kill');
    await store.close();
    await j.close();
  });
});

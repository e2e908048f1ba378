import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { SinkErrors } from './errors.js';
import { Fanout } from './fanout.js';
import { Journal } from './journal.js';
import { toSample } from './poll.js';
import type { JournalEntry, Sink } from './sinks/sink.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function journal(): Journal {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-fanout-'));
  dirs.push(d);
  return Journal.open(d, { fsync: 'off', maxBytes: 1e9 });
}
function sample(i: number): Sample {
  const r = emptyReading('antminer');
  r.hashrate_hs = i;
  return toSample(r, {
    rigId: 'r',
    site: 's',
    address: 'a:1',
    atMs: i,
    ok: true,
    durationMs: 0,
    error: null,
  });
}

/** A sink backed by an array; fails `failOpens` opens and `failWrites` writes first. */
class ArraySink implements Sink {
  readonly got: number[] = [];
  opens = 0;
  writes = 0;
  closed = false;
  constructor(
    readonly name: string,
    public failOpens = 0,
    public failWrites = 0,
    readonly poison = new Set<number>(),
  ) {}
  async open(): Promise<void> {
    this.opens += 1;
    if (this.failOpens > 0) {
      this.failOpens -= 1;
      throw SinkErrors.open(this.name, 'refused');
    }
  }
  async write(batch: readonly JournalEntry[]): Promise<void> {
    this.writes += 1;
    if (this.failWrites > 0) {
      this.failWrites -= 1;
      throw SinkErrors.write(this.name, 'down');
    }
    const bad = batch.find((e) => this.poison.has(e.seq));
    if (bad) throw SinkErrors.poison(this.name, `seq ${bad.seq}`);
    for (const e of batch) this.got.push(e.seq);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('fanout', () => {
  it('delivers every entry exactly once, in order, to a sink that fails for a while then recovers', async () => {
    const j = journal();
    const flaky = new ArraySink('flaky', 2, 5);
    const healthy = new ArraySink('healthy');
    const f = new Fanout(j, [flaky, healthy], { batchSize: 7, retryMinMs: 1, retryMaxMs: 8 });
    f.start();
    for (let i = 1; i <= 100; i++) {
      j.append([sample(i)]);
      f.kick();
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(await f.flush(20_000), true);
    const want = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(healthy.got, want);
    assert.deepEqual(flaky.got, want);
    assert.equal(flaky.opens, 3, 'open retried until it worked');
    const st = f.status();
    const fl = st.find((s) => s.name === 'flaky')!;
    assert.equal(fl.state, 'ok');
    assert.equal(fl.lag_samples, 0);
    assert.equal(fl.acked_seq, 100);
    assert.equal(fl.last_error?.code, 'RT_ERR_SINK_WRITE', 'the last failure stays visible');
    await f.stop();
    assert.equal(flaky.closed, true);
    assert.equal(j.read(0, 1000).length, 0, 'delivered entries are trimmed');
    await j.close();
  });

  it('a sink that is down does not hold back the others, and catches up from its offset later', async () => {
    const j = journal();
    const down = new ArraySink('down', 0, Number.POSITIVE_INFINITY);
    const up = new ArraySink('up');
    const f = new Fanout(j, [down, up], { retryMinMs: 1, retryMaxMs: 5 });
    f.start();
    for (let i = 1; i <= 50; i++) j.append([sample(i)]);
    f.kick();
    assert.equal(await f.flush(300), false, 'not every sink caught up');
    assert.equal(up.got.length, 50);
    assert.equal(down.got.length, 0);
    const st = f.status().find((s) => s.name === 'down')!;
    assert.equal(st.state, 'retrying');
    assert.equal(st.lag_samples, 50);
    assert.equal(j.read(0, 1000).length, 50, 'undelivered entries stay in the journal');
    await f.stop();
    // A restart with the sink back: it resumes from its acknowledged offset.
    const back = new ArraySink('down');
    const again = new ArraySink('up');
    const f2 = new Fanout(j, [back, again], { retryMinMs: 1, retryMaxMs: 5 });
    f2.start();
    assert.equal(await f2.flush(10_000), true);
    assert.equal(back.got.length, 50);
    assert.equal(again.got.length, 0, 'nothing is sent twice to the sink that had it');
    await f2.stop();
    await j.close();
  });

  it('skips only the entry a sink can never accept', async () => {
    const j = journal();
    const picky = new ArraySink('picky', 0, 0, new Set([5]));
    const f = new Fanout(j, [picky], { batchSize: 4, retryMinMs: 1, retryMaxMs: 5 });
    f.start();
    for (let i = 1; i <= 12; i++) j.append([sample(i)]);
    f.kick();
    assert.equal(await f.flush(10_000), true);
    assert.deepEqual(picky.got, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]);
    await f.stop();
    await j.close();
  });

  it('a lingering sink waits only once caught up: a backlog goes through in full batches at once', async () => {
    const j = journal();
    const sink = new (class extends ArraySink {
      readonly lingerMs = 60_000;
    })('slow-commits');
    const f = new Fanout(j, [sink], { batchSize: 10 });
    f.start();
    j.append(Array.from({ length: 95 }, (_, i) => sample(i + 1)));
    f.kick();
    // 9 full batches and the last partial one, then the linger: all delivered long before a minute.
    const until = Date.now() + 10_000;
    while (sink.got.length < 95 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.got.length, 95);
    assert.equal(sink.writes, 10);
    // Caught up and lingering: new samples wait for the linger (or a flush), and flush cuts it short.
    j.append([sample(96)]);
    f.kick();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.got.length, 95, 'lingering: not woken by new samples');
    assert.equal(await f.flush(5000), true);
    assert.equal(sink.got.length, 96);
    await f.stop();
  });
});

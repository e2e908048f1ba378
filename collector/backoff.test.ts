/**
 * Backoff that means it. (1) A lane that went idle and then fails keeps to its curve: a stale idle timer must not
 * wake it early. (2) One real outage: influxd stops, the InfluxDB sink backs off along the configured curve,
 * and after influxd returns the sink is up within 3 s (its /ping probe). Outage length: RIGTEL_TEST_OUTAGE_S
 * (default 8 s in the suite; 60 reproduces the full test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { influxSinkSchema } from '../config/sections/sinks.js';
import { emptyReading } from '../protocols/sample.js';
import { startInfluxd } from '../testing/influxd.js';
import { SinkErrors } from './errors.js';
import { Fanout } from './fanout.js';
import { Journal, type Logger } from './journal.js';
import { toSample } from './poll.js';
import { InfluxSink } from './sinks/influx.js';
import type { JournalEntry, Sink } from './sinks/sink.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function journal(): Journal {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-backoff-'));
  dirs.push(d);
  return Journal.open(d, { fsync: 'off', maxBytes: 1e9 });
}
let n = 0;
function append(j: Journal): void {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 100e12;
  n++;
  j.append([
    toSample(r, {
      rigId: 'r1',
      site: 's',
      address: '127.0.0.1:1',
      atMs: Date.now() + n,
      ok: true,
      durationMs: 1,
      error: null,
    }),
  ]);
}

/** Log lines as objects, to read what the fan-out said. */
function recorder(): Logger & { lines: Array<Record<string, unknown> & { msg: string; t: number }> } {
  const lines: Array<Record<string, unknown> & { msg: string; t: number }> = [];
  const at = (o: unknown, msg?: string) =>
    lines.push({ ...(o as object), msg: msg ?? '', t: performance.now() });
  return { lines, info: at, warn: at, error: at, debug: at } as never;
}

/** Fewest and most failures that fit in `ms` on the curve (delays between half and all of min·2^(k-1) ≤ max). */
function attemptsBounds(ms: number, minMs: number, maxMs: number, slackMs: number): [number, number] {
  const count = (share: number, window: number) => {
    let t = 0;
    let k = 1;
    for (;;) {
      const d = Math.min(maxMs, minMs * 2 ** (k - 1)) * share;
      if (t + d > window) return k;
      t += d;
      k++;
    }
  };
  return [count(1, Math.max(0, ms - slackMs)), count(0.5, ms)];
}

describe('backoff', () => {
  it('a lane that was idle keeps its backoff curve (no stale timer wakes it)', async () => {
    const j = journal();
    const writes: number[] = [];
    let failing = false;
    const sink: Sink = {
      name: 'flaky',
      open: async () => {},
      write: async (_b: readonly JournalEntry[]) => {
        writes.push(performance.now());
        if (failing) throw SinkErrors.write('flaky', 'down');
      },
      close: async () => {},
    };
    const f = new Fanout(j, [sink], { retryMinMs: 400, retryMaxMs: 400, probeEveryMs: 0 });
    f.start();
    append(j);
    f.kick();
    await new Promise((r) => setTimeout(r, 700)); // idle now, with its 1 s re-check timer pending
    failing = true;
    writes.length = 0;
    append(j);
    f.kick();
    await new Promise((r) => setTimeout(r, 1500));
    await f.stop(500);
    await j.close();
    // Every gap between attempts is at least the curve's half (200 ms); before the fix a stale idle timer
    // woke the lane early and several attempts came within a few ms.
    const gaps = writes.slice(1).map((t, i) => t - writes[i]!);
    assert.ok(writes.length >= 3 && writes.length <= 8, `${writes.length} attempts in 1.5 s`);
    for (const g of gaps) assert.ok(g >= 190, `gap ${g.toFixed(0)} ms`);
  });

  it('InfluxDB stops and returns: attempts follow the curve, the sink is up within 3 s of the return', async (t) => {
    const outageS = Number(process.env['RIGTEL_TEST_OUTAGE_S'] ?? 8);
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const retry = { min_ms: 250, max_ms: 4000, probe_ms: 500 };
    const cfg = influxSinkSchema.parse({
      url: influxd.url,
      database: 'backoff',
      timeout_ms: 1000,
      flush_interval_ms: 0,
    });
    const log = recorder();
    const j = journal();
    const sink = new InfluxSink(cfg, { log: log as never });
    const f = new Fanout(j, [sink], {
      retryMinMs: retry.min_ms,
      retryMaxMs: retry.max_ms,
      probeEveryMs: retry.probe_ms,
      log,
    });
    f.start();
    const feeder = setInterval(() => {
      append(j);
      f.kick();
    }, 100);
    t.after(() => clearInterval(feeder));
    const waitState = async (state: string, withinMs: number) => {
      const until = performance.now() + withinMs;
      while (performance.now() < until) {
        if (f.status()[0]!.state === state) return performance.now();
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`sink not ${state} within ${withinMs} ms: ${JSON.stringify(f.status()[0])}`);
    };
    await waitState('ok', 15_000);
    await influxd.down();
    const downAt = performance.now();
    await waitState('retrying', 5000);
    await new Promise((r) => setTimeout(r, outageS * 1000 - (performance.now() - downAt)));
    await influxd.up();
    const backAt = performance.now();
    const okAt = await waitState('ok', 10_000);
    clearInterval(feeder);
    const recoveredIn = okAt - backAt;
    const failures = log.lines.filter((l) => /sink (open|write) failed; retrying/.test(l.msg));
    const outageMs = backAt - downAt;
    const [least, most] = attemptsBounds(outageMs, retry.min_ms, retry.max_ms, 1500);
    // Writing again may need one last failure right at the return (a write in flight as influxd came up).
    assert.ok(
      failures.length >= least && failures.length <= most + 1,
      `${failures.length} failed attempts in a ${(outageMs / 1000).toFixed(1)} s outage; the curve allows ${least}..${most}`,
    );
    assert.ok(recoveredIn < 3000, `up again ${recoveredIn.toFixed(0)} ms after influxd returned`);
    // Every sample appended during the outage is in InfluxDB once it is back.
    assert.ok(await f.flush(10_000), 'flushed');
    await f.stop(1000);
    await j.close();
    console.log(
      `# backoff: outage ${(outageMs / 1000).toFixed(1)} s, ${failures.length} attempts (curve ${least}..${most}), up ${recoveredIn.toFixed(0)} ms after return`,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinerDriver, PollTarget } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading } from '../protocols/sample.js';
import { pollRig, type RigTarget } from './poll.js';
import { Scheduler, SKIP_REASONS, type SkipReason } from './scheduler.js';

function target(port: number): RigTarget {
  const t: PollTarget = {
    host: '127.0.0.1',
    port,
    family: 'antminer',
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
    maxReplyBytes: 65536,
  };
  return { name: null, address: `127.0.0.1:${port}`, target: t };
}

/** Answers after `ms`, or fails at once when `dead`. */
function driver(ms: number, dead = false): MinerDriver {
  return {
    family: 'antminer',
    poll: (_t, signal) =>
      new Promise((resolve, reject) => {
        if (dead) {
          reject(ProtoErrors.connectRefused('x'));
          return;
        }
        const timer = setTimeout(() => {
          const r = emptyReading('antminer');
          r.state = 'mining';
          resolve(r);
        }, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ProtoErrors.aborted('x'));
        });
      }),
  };
}

describe('scheduler accounting', () => {
  interface Scenario {
    kinds: Array<{ count: number; driver: MinerDriver }>;
    concurrency: number;
  }

  /** Runs the real timer for 1.5 s at a 100 ms interval and checks that nothing disappears. */
  async function run(sc: Scenario, basePort: number) {
    const kind = new Map<RigTarget, MinerDriver>();
    const groups: RigTarget[][] = [];
    let port = basePort;
    for (const k of sc.kinds) {
      const g = Array.from({ length: k.count }, () => target(port++));
      for (const t of g) kind.set(t, k.driver);
      groups.push(g);
    }
    const all = groups.flat();
    const skips: Record<string, Record<SkipReason, number>> = {};
    const samples: Record<string, number> = {};
    for (const t of all) {
      skips[t.address] = { skipped_busy: 0, deadline: 0, backoff: 0 };
      samples[t.address] = 0;
    }
    const s = new Scheduler(
      all,
      (t, signal) => pollRig(t, kind.get(t)!, { deadlineMs: 2000, now: Date.now, site: 's', signal }),
      (sample) => {
        samples[sample.address]! += 1;
      },
      {
        intervalMs: 100,
        concurrency: sc.concurrency,
        backoffMaxMs: 400,
        onSkip: (t, reason) => {
          skips[t.address]![reason] += 1;
        },
      },
    );
    s.start();
    await new Promise((r) => setTimeout(r, 1500));
    const inFlightAtStop = s.inFlight();
    const before = s.stats();
    await s.stop();
    const c = s.stats();
    const sum = (r: Record<SkipReason, number>) => SKIP_REASONS.reduce((a, k) => a + r[k], 0);
    assert.ok(c.due >= all.length * 10, `slots came due (${c.due})`);
    // Nothing disappears: every due slot started, was skipped with a reason, or is still owed.
    assert.equal(c.due, c.started + sum(c.skipped) + c.owed);
    assert.equal(before.due, before.started + sum(before.skipped) + before.owed);
    // Every skip reached the handler with its reason.
    for (const reason of SKIP_REASONS) {
      assert.equal(
        Object.values(skips).reduce((a, r) => a + r[reason], 0),
        c.skipped[reason],
        `${reason} counted = recorded`,
      );
    }
    // Every started poll settled; every settled poll gave a sample except those cancelled by stop().
    assert.equal(c.settled, c.started);
    const delivered = Object.values(samples).reduce((a, b) => a + b, 0);
    assert.equal(delivered, c.settled - inFlightAtStop);
    return { c, skips, samples, groups };
  }

  it('rigs slower than the interval are polled late, their lost slots recorded skipped_busy; dead rigs backoff', async () => {
    const { c, skips, samples, groups } = await run(
      {
        kinds: [
          { count: 4, driver: driver(250) }, // slower than the 100 ms interval
          { count: 3, driver: driver(0, true) }, // refused: backoff
          { count: 10, driver: driver(10) },
        ],
        concurrency: 32,
      },
      10_000,
    );
    const [slow, dead, normal] = groups as [RigTarget[], RigTarget[], RigTarget[]];
    assert.ok(c.skipped.skipped_busy > 0, 'slow rigs due while in flight');
    assert.ok(c.late > 0, 'slow rigs were polled late, not dropped');
    assert.ok(c.skipped.backoff > 0, 'dead rigs sit out slots');
    assert.equal(c.skipped.deadline, 0, 'slots to spare: nothing waited past its next slot');
    for (const t of slow) {
      assert.ok(samples[t.address]! >= 4, `slow rig ${t.address} still answered (${samples[t.address]})`);
      assert.ok(skips[t.address]!.skipped_busy > 0);
      assert.equal(skips[t.address]!.backoff, 0);
    }
    for (const t of dead) assert.ok(skips[t.address]!.backoff > 0, `dead rig ${t.address} backed off`);
    for (const t of normal) {
      assert.deepEqual(skips[t.address], { skipped_busy: 0, deadline: 0, backoff: 0 });
      assert.ok(samples[t.address]! >= 13, `healthy rig polled every interval (${samples[t.address]})`);
    }
  });

  it('more due polls than slots: those that wait past their next slot are recorded deadline', async () => {
    const { c, samples } = await run(
      // 2 slots × 100 ms / 60 ms ≈ 3 polls per interval for 10 rigs.
      { kinds: [{ count: 10, driver: driver(60) }], concurrency: 2 },
      10_500,
    );
    assert.ok(c.skipped.deadline > 0, 'queued slots overtaken by the next one');
    assert.equal(c.skipped.backoff, 0);
    assert.ok(
      Object.values(samples).every((n) => n > 0),
      'every rig still got polls',
    );
  });

  it('each rig has its own phase: polls are spread over the interval, not started in one burst', async () => {
    const interval = 400;
    const targets = Array.from({ length: 80 }, (_, i) => target(11_000 + i));
    const starts: number[] = [];
    const instant: MinerDriver = {
      family: 'antminer',
      poll: async () => {
        starts.push(performance.now());
        return emptyReading('antminer');
      },
    };
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, instant, { deadlineMs: 1000, now: Date.now, site: 's', signal }),
      () => {},
      { intervalMs: interval, concurrency: 100, backoffMaxMs: 0 },
    );
    s.start();
    await new Promise((r) => setTimeout(r, interval + 50));
    await s.stop();
    const first = starts.slice(0, 80);
    assert.equal(first.length, 80, 'every rig polled within the first interval');
    // Four quarters of the interval: none holds more than half of the fleet.
    const t0 = first[0]!;
    const quarters = [0, 0, 0, 0];
    for (const t of first) quarters[Math.min(3, Math.floor(((t - t0) / interval) * 4))]! += 1;
    assert.ok(Math.max(...quarters) <= 40, `polls spread over the interval: ${quarters.join('/')}`);
    assert.ok(Math.min(...quarters) >= 5, `polls spread over the interval: ${quarters.join('/')}`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinerDriver, PollTarget } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading, type MinerReading, type Sample } from '../protocols/sample.js';
import { pollRig, type RigTarget } from './poll.js';
import { Scheduler } from './scheduler.js';

function target(port: number, name: string | null = null): RigTarget {
  const t: PollTarget = {
    host: '127.0.0.1',
    port,
    family: 'antminer',
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
    maxReplyBytes: 65536,
  };
  return { name, address: `127.0.0.1:${port}`, target: t };
}

function reading(): MinerReading {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 1e14;
  return r;
}

/** Answers after `ms` (honouring the signal). */
function sleeper(ms: number, onStart?: () => void, onEnd?: () => void): MinerDriver {
  return {
    family: 'antminer',
    poll: (_t, signal) =>
      new Promise((resolve, reject) => {
        onStart?.();
        const timer = setTimeout(() => {
          onEnd?.();
          resolve(reading());
        }, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          onEnd?.();
          reject(ProtoErrors.aborted('x'));
        });
      }),
  };
}

/** Never answers and ignores its signal: the worst driver. */
const hanging: MinerDriver = { family: 'antminer', poll: () => new Promise<MinerReading>(() => {}) };

/**
 * Eight rigs from `basePort`; the six polled first (lowest phase) fail after `hangMs`, the last two answer at
 * once. Returns the targets, the hanging addresses and the driver.
 */
function hangersFirst(basePort: number, hangMs: number) {
  const targets = Array.from({ length: 8 }, (_, i) => target(basePort + i));
  const probe = new Scheduler(
    targets,
    async () => null as never,
    () => {},
    {
      intervalMs: 60_000,
      concurrency: 2,
      backoffMaxMs: 60_000,
    },
  );
  const byPhase = [...targets].sort((a, b) => probe.stateOf(a)!.phase_ms - probe.stateOf(b)!.phase_ms);
  const hangers = new Set(byPhase.slice(0, 6).map((t) => t.address));
  const driver: MinerDriver = {
    family: 'antminer',
    poll: (t) =>
      hangers.has(`${t.host}:${t.port}`)
        ? new Promise((_resolve, reject) =>
            setTimeout(() => reject(ProtoErrors.timeout('x', hangMs)), hangMs),
          )
        : new Promise((resolve) => setTimeout(() => resolve(reading()), 2)),
  };
  return { targets, hangers, driver };
}

describe('scheduler', () => {
  it('never has more than `concurrency` polls in flight, and polls everyone', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const driver = sleeper(
      3,
      () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
      },
      () => {
        inFlight -= 1;
      },
    );
    const targets = Array.from({ length: 25 }, (_, i) => target(5000 + i));
    const seen: string[] = [];
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, driver, { deadlineMs: 5000, now: Date.now, site: 's', signal }),
      (sample) => seen.push(sample.address),
      { intervalMs: 60_000, concurrency: 3, backoffMaxMs: 0 },
    );
    const round = await s.runRound();
    assert.equal(maxInFlight, 3);
    assert.equal(round.polled, 25);
    assert.equal(round.answered, 25);
    assert.equal(new Set(seen).size, 25);
    await s.stop();
  });

  it('a hanging rig times out at its deadline, holding one slot, while the others keep their schedule', async () => {
    const slowOne = target(6000, 'hung');
    const fast = Array.from({ length: 6 }, (_, i) => target(6001 + i));
    const order: Sample[] = [];
    let fastDone: () => void = () => {};
    const allFastDone = new Promise<void>((r) => {
      fastDone = r;
    });
    const s = new Scheduler(
      [slowOne, ...fast],
      (t, signal) =>
        pollRig(t, t === slowOne ? hanging : sleeper(2), {
          deadlineMs: 400,
          now: Date.now,
          site: 's',
          signal,
        }),
      (sample) => {
        order.push(sample);
        if (order.filter((x) => x.address !== slowOne.address).length === fast.length) fastDone();
      },
      { intervalMs: 60_000, concurrency: 2, backoffMaxMs: 0 },
    );
    const first = s.runRound();
    await allFastDone;
    // The hung rig is still in flight: the next round polls the others and skips it (no double poll).
    assert.equal(s.stateOf(slowOne)!.in_flight, true);
    const second = await s.runRound();
    assert.equal(second.polled, 6);
    assert.equal(second.skipped, 1);
    const r1 = await first;
    assert.equal(r1.polled, 7);
    assert.equal(r1.answered, 6);
    const hungSample = order.find((x) => x.address === slowOne.address)!;
    assert.equal(order.indexOf(hungSample), 12, 'the hung rig answered last, after two rounds of the others');
    assert.equal(hungSample.poll.ok, false);
    assert.equal(hungSample.state, 'offline');
    assert.equal(hungSample.poll.error_code, 'RT_ERR_SCHED_POLL_DEADLINE');
    assert.equal(hungSample.hashrate_hs, null);
    assert.equal(hungSample.rig_id, 'hung');
    assert.ok(hungSample.poll.duration_ms >= 390, 'it was abandoned at its deadline, not before');
    await s.stop();
  });

  it('backs a dead rig off exponentially up to backoff_max, and resets on an answer', async () => {
    let now = 1_000_000;
    let alive = false;
    const dead = target(7000, 'dead');
    const ok = target(7001, 'ok');
    const deadDriver: MinerDriver = {
      family: 'antminer',
      poll: async () => {
        if (!alive) throw ProtoErrors.connectRefused(dead.address);
        return reading();
      },
    };
    const polledAt: Record<string, number[]> = { dead: [], ok: [] };
    let round = 0;
    const s = new Scheduler(
      [dead, ok],
      (t, signal) =>
        pollRig(t, t === dead ? deadDriver : sleeper(0), {
          deadlineMs: 1000,
          now: () => now,
          site: 's',
          signal,
        }),
      (sample) => polledAt[sample.rig_id]!.push(round),
      { intervalMs: 1000, concurrency: 4, backoffMaxMs: 8000, jitter: 0, now: () => now },
    );
    for (round = 1; round <= 20; round++) {
      await s.runRound();
      now += 1000;
    }
    assert.deepEqual(polledAt.dead, [1, 2, 4, 8, 16], 'delays 1, 2, 4, 8 intervals, then capped at 8');
    assert.equal(polledAt.ok!.length, 20, 'the healthy rig is polled every round');
    assert.equal(s.stateOf(dead)!.failures, 5);
    alive = true;
    for (; round <= 27; round++) {
      await s.runRound();
      now += 1000;
    }
    assert.deepEqual(polledAt.dead!.slice(5), [24, 25, 26, 27], 'back to every round once it answers');
    assert.equal(s.stateOf(dead)!.failures, 0);
    await s.stop();
  });

  it('sweep() polls everyone at once, ignoring backoff, and stop() cancels polls in flight', async () => {
    const targets = Array.from({ length: 5 }, (_, i) => target(8000 + i));
    const samples: Sample[] = [];
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, sleeper(60_000), { deadlineMs: 120_000, now: Date.now, site: 's', signal }),
      (x) => samples.push(x),
      { intervalMs: 1000, concurrency: 10, backoffMaxMs: 0 },
    );
    const sweep = s.sweep();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.inFlight(), 5);
    await s.stop();
    const st = await sweep;
    assert.equal(st.polled, 5);
    assert.equal(samples.length, 0, 'polls cancelled by shutdown are not reported as the rigs being offline');
  });

  it('start() polls each rig once per interval on its own timer until stop()', async () => {
    const targets = [target(9000), target(9001)];
    let n = 0;
    let enough: () => void = () => {};
    const done = new Promise<void>((r) => {
      enough = r;
    });
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, sleeper(0), { deadlineMs: 1000, now: Date.now, site: 's', signal }),
      () => {
        n += 1;
        if (n === 10) enough();
      },
      { intervalMs: 20, concurrency: 2, backoffMaxMs: 0 },
    );
    s.start();
    await done;
    await s.stop();
    const last = s.lastRound()!;
    assert.ok(last.round >= 3);
    assert.equal(last.answered, 2);
    assert.equal(s.nextPollMs(targets[0]!), null, 'nothing scheduled after stop');
  });

  it('rigs whose last poll failed wait in their own lane: hanging rigs cannot hold healthy ones back', async () => {
    // The rigs polled first (lowest phase) hang; the two polled last answer at once.
    const { targets, hangers, driver } = hangersFirst(6000, 150);
    const order: string[] = [];
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, driver, { deadlineMs: 5000, now: Date.now, site: 's', signal }),
      (sample) => order.push(hangers.has(sample.address) ? 'hang' : 'ok'),
      { intervalMs: 60_000, concurrency: 2, backoffMaxMs: 60_000 },
    );
    await s.sweep(); // first sweep: nobody has failed yet, so the hangers take the slots first
    assert.equal(order.filter((o) => o === 'hang').length, 6);
    order.length = 0;
    await s.sweep();
    assert.deepEqual(
      order.slice(0, 2),
      ['ok', 'ok'],
      `second sweep, in order of answers: ${order.join(' ')}`,
    );
    assert.equal(order.length, 8, 'every rig polled');
    await s.stop();
  });

  it('a poll still in flight after overdueMs gives its slot up: rigs hanging on their first poll do not hold healthy ones back', async () => {
    // The six polled first hang for 300 ms; the last two answer at once.
    const { targets, hangers, driver } = hangersFirst(6100, 300);
    const order: string[] = [];
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, driver, { deadlineMs: 5000, now: Date.now, site: 's', signal }),
      (sample) => order.push(hangers.has(sample.address) ? 'hang' : 'ok'),
      { intervalMs: 60_000, concurrency: 2, backoffMaxMs: 60_000, overdueMs: 30 },
    );
    await s.sweep(); // the first encounter: nobody has failed yet
    assert.deepEqual(order.slice(0, 2), ['ok', 'ok'], `in order of answers: ${order.join(' ')}`);
    assert.equal(order.length, 8, 'every rig polled');
    assert.equal(s.stats().overdue, 6, 'each hanging poll gave its slot up once');
    await s.stop();
  });

  it('overdue polls hold at most four times `concurrency` slots of their own', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: MinerDriver = {
      family: 'antminer',
      poll: () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise((resolve) =>
          setTimeout(() => {
            inFlight -= 1;
            resolve(reading());
          }, 200),
        );
      },
    };
    const targets = Array.from({ length: 12 }, (_, i) => target(6200 + i));
    const s = new Scheduler(
      targets,
      (t, signal) => pollRig(t, slow, { deadlineMs: 5000, now: Date.now, site: 's', signal }),
      () => {},
      { intervalMs: 60_000, concurrency: 1, backoffMaxMs: 60_000, overdueMs: 20 },
    );
    const round = await s.sweep();
    assert.equal(round.answered, 12);
    // One in the answering lane and four overdue: more than `concurrency`, never more than five.
    assert.equal(maxInFlight, 5);
    await s.stop();
  });

  it('polls an address once: a second target at a known address is not added, and is not the one polled there', () => {
    const first = target(7001, 'first');
    const second = target(7001, 'second');
    const s = new Scheduler(
      [first],
      async () => null as never,
      () => {},
      {
        intervalMs: 60_000,
        concurrency: 2,
        backoffMaxMs: 60_000,
      },
    );
    assert.deepEqual(
      s.add([second, target(7002)]).map((t) => t.address),
      ['127.0.0.1:7002'],
    );
    assert.equal(s.size(), 2);
    assert.equal(s.targetAt('127.0.0.1:7001'), first);
    assert.equal(s.targetAt('127.0.0.1:7003'), undefined);
    assert.ok(s.stateOf(first));
    assert.equal(s.stateOf(second), undefined);
    assert.equal(s.nextPollMs(second), null);
  });
});

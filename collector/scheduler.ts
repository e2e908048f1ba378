/**
 * Poll scheduling. There are no synchronized rounds: each rig has its own phase inside the interval (a hash of
 * its address, so it is stable across restarts and when rigs are added), and is due at
 * `start + k·interval + phase`. At most `concurrency` polls run at once; each poll has its own deadline
 * (enforced by the poll function), so a hanging rig only holds one slot until then.
 *
 * Every due slot ends in exactly one of: a poll that started, or a skip recorded with its reason (`onSkip`,
 * counters in `stats()`); nothing is dropped silently.
 * - A rig due while its previous poll is still in flight is marked **late**: it is polled as soon as that poll
 *   settles. If it is due again before then, the owed slot is recorded as `skipped_busy`.
 * - A rig due while every slot is taken waits in a FIFO queue; if it is due again before it got a slot, the
 *   owed slot is recorded as `deadline`.
 * - A dead rig backs off exponentially (interval · 2^(failures-1), capped at `backoffMaxMs`, ±jitter so rigs
 *   that died together do not come back in lockstep); each slot it sits out is recorded as `backoff`. One
 *   answer resets it.
 *
 * Invariant (tested): `due = started + skipped(all reasons) + owed`, where `owed` are slots waiting to start.
 *
 * `runRound()` and `sweep()` poll every target at once and await the lot: tests and benchmarks drive them.
 */

import { setMaxListeners } from 'node:events';
import { errorMessage } from '../lib/errors.js';
import { hashString32 } from '../lib/hash.js';
import { type Logger, silentLogger } from '../lib/log.js';
import type { Sample } from '../protocols/sample.js';
import type { RigTarget } from './poll.js';

export const SKIP_REASONS = ['skipped_busy', 'deadline', 'backoff'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SchedulerOptions {
  intervalMs: number;
  concurrency: number;
  backoffMaxMs: number;
  /** Fraction of the backoff delay used as ± jitter (default 0.1). */
  jitter?: number;
  now?: () => number;
  log?: Logger;
  random?: () => number;
  /** Called once for every due poll that will not happen, with its reason and the time it was due. */
  onSkip?: (t: RigTarget, reason: SkipReason, dueMs: number) => void;
  /** A poll of the answering lane in flight this long gives its slot up (default `OVERDUE_MS`). */
  overdueMs?: number;
}

/**
 * A poll of a rig that answered last time, still in flight after this long, waits on a slow or hung rig (healthy
 * polls take 0.1–0.5 s at p99 in the sweeps, `docs/scaling.md`): it gives its answering-lane slot to the next
 * rig and holds one of the overdue polls' instead. A rig that hangs on its first encounter then no longer holds
 * the healthy rigs back for a whole command timeout.
 */
export const OVERDUE_MS = 2000;
/**
 * Overdue polls in flight at most, in `concurrency`s: they wait on sockets that send nothing, so they cost a
 * descriptor and a little memory, not CPU (4,096 polls *started* at once on a busy box made healthy polls miss
 * their own timeouts; these have started already).
 */
const OVERDUE_BUDGET = 4;

export interface RoundStats {
  round: number;
  started_ms: number;
  /** For a round: until its last poll settled. For a cycle of the timer: the cycle's length. */
  duration_ms: number | null;
  polled: number;
  answered: number;
  /** Due slots that were not polled (backoff, busy, deadline). */
  skipped: number;
}

export interface SchedulerCounters {
  /** Slots that came due (timer and rounds). */
  due: number;
  /** Polls started. */
  started: number;
  /** Polls that settled (answered or failed). */
  settled: number;
  answered: number;
  /** Polls that started after their slot because the previous poll of the rig was still in flight. */
  late: number;
  /** Slots owed and not started yet (queued or waiting for the rig's poll in flight). */
  owed: number;
  in_flight: number;
  /** Polls still in flight after `overdueMs` that gave their slot to the next rig (slow or hung rigs). */
  overdue: number;
  skipped: Record<SkipReason, number>;
}

export interface TargetState {
  failures: number;
  /** Slots before this time are sat out (backoff). */
  not_before_ms: number;
  in_flight: boolean;
  last_poll_ms: number | null;
  /** Offset of the rig's slot inside the interval. */
  phase_ms: number;
  /** Due time of the slot owed to this rig and not started yet, null when none is owed. */
  owed_ms: number | null;
  /** The owed slot is late: it came due while the previous poll was in flight. */
  late: boolean;
}

interface Slot extends TargetState {
  target: RigTarget;
  queued: boolean;
  /** The lane whose budget the poll in flight holds. */
  lane: Lane | null;
}

/** Work waiting for a poll slot (FIFO; `head` is the next to run) and the polls in flight on its budget. */
interface Lane {
  queue: (() => void)[];
  head: number;
  running: number;
}

function newLane(): Lane {
  return { queue: [], head: 0, running: 0 };
}

export type PollFn = (target: RigTarget, signal: AbortSignal) => Promise<Sample>;

/** FNV-1a of the address with a murmur3 finalizer (neighbouring addresses land far apart): the rig's phase. */
function phaseOf(address: string, intervalMs: number): number {
  return Math.floor((hashString32(address) / 0x1_0000_0000) * intervalMs);
}

/** Timer resolution: slots due within this much are started together. */
const TICK_MS = 10;

export class Scheduler {
  /** Sorted by phase: the timer walks them in order, one cycle per interval. */
  private slots: Slot[] = [];
  /** One slot per address (a target whose address is polled already is not added). */
  private readonly byAddress = new Map<string, Slot>();
  private readonly poll: PollFn;
  private readonly onSample: (s: Sample, t: RigTarget) => void;
  private readonly opts: Required<Omit<SchedulerOptions, 'log' | 'onSkip'>> & {
    log: Logger;
    onSkip: SchedulerOptions['onSkip'];
  };
  private readonly shutdown = shutdownController();
  /**
   * Two lanes, each with `concurrency` polls in flight at most: rigs whose last poll answered, and rigs whose last
   * poll failed. A rig that accepts and never answers holds its poll for the whole command timeout; with one
   * budget, 5 % of 5,000 rigs hanging filled 249 of 256 slots and healthy rigs waited behind them (healthy p99
   * 12.8 s → 20.1 s in `npm run bench -- sweep`). Raising the one budget instead let 4,096 polls into a busy
   * box at once, and healthy polls then failed at their own timeouts.
   */
  private readonly answering = newLane();
  private readonly failing = newLane();
  private readonly lanes: readonly Lane[] = [this.answering, this.failing];
  /** Polls moved out of the answering lane once overdue: only their count (`running`) is used. */
  private readonly overdue = newLane();
  /** Polls started in the answering lane, oldest first (settled ones are dropped when they reach the head). */
  private answeringStarts: { slot: Slot; startMs: number }[] = [];
  private startsHead = 0;
  private overdueTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startedAt: number | null = null;
  /** Timer position: cycle number and index into `slots`. */
  private cycle = 0;
  private cursor = 0;
  private cycleStats: RoundStats | null = null;
  /** The cycle before: published as `lastRound()` one cycle later, once its polls had time to settle. */
  private prevCycle: RoundStats | null = null;
  private roundNo = 0;
  private last: RoundStats | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly counters: SchedulerCounters = {
    due: 0,
    started: 0,
    settled: 0,
    answered: 0,
    late: 0,
    owed: 0,
    in_flight: 0,
    overdue: 0,
    skipped: { skipped_busy: 0, deadline: 0, backoff: 0 },
  };

  constructor(
    targets: RigTarget[],
    poll: PollFn,
    onSample: (s: Sample, t: RigTarget) => void,
    opts: SchedulerOptions,
  ) {
    this.poll = poll;
    this.onSample = onSample;
    this.opts = {
      intervalMs: opts.intervalMs,
      concurrency: Math.max(1, opts.concurrency),
      backoffMaxMs: opts.backoffMaxMs,
      jitter: opts.jitter ?? 0.1,
      now: opts.now ?? Date.now,
      log: opts.log ?? silentLogger,
      random: opts.random ?? Math.random,
      onSkip: opts.onSkip,
      overdueMs: opts.overdueMs ?? OVERDUE_MS,
    };
    this.add(targets);
  }

  /** Poll more targets (rigs found by a rescan), each at its own phase. Returns those not already polled. */
  add(targets: readonly RigTarget[]): RigTarget[] {
    const added: RigTarget[] = [];
    const fresh: Slot[] = [];
    for (const t of targets) {
      if (this.byAddress.has(t.address)) continue;
      added.push(t);
      const slot: Slot = {
        target: t,
        failures: 0,
        not_before_ms: 0,
        in_flight: false,
        last_poll_ms: null,
        phase_ms: phaseOf(t.address, this.opts.intervalMs),
        owed_ms: null,
        late: false,
        queued: false,
        lane: null,
      };
      this.byAddress.set(t.address, slot);
      fresh.push(slot);
    }
    if (fresh.length > 0) this.insertInPhaseOrder(fresh);
    return added;
  }

  /**
   * Merge new slots into the phase-ordered list (one sort and one merge: inserting 10,000 rigs one splice at a
   * time moved ~50 million entries). A slot placed before the timer's cursor waits for the next cycle.
   */
  private insertInPhaseOrder(fresh: Slot[]): void {
    fresh.sort((a, b) => a.phase_ms - b.phase_ms);
    const old = this.slots;
    const merged: Slot[] = new Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let before = 0;
    for (let k = 0; k < merged.length; k++) {
      // Equal phases: the slot already there stays first (as the one-at-a-time insertion did).
      if (j >= fresh.length || (i < old.length && old[i]!.phase_ms <= fresh[j]!.phase_ms))
        merged[k] = old[i++]!;
      else {
        if (i < this.cursor) before += 1;
        merged[k] = fresh[j++]!;
      }
    }
    this.slots = merged;
    this.cursor += before;
  }

  size(): number {
    return this.slots.length;
  }

  /** Signal aborted on stop(): pass it to polls so shutdown cancels them. */
  get signal(): AbortSignal {
    return this.shutdown.signal;
  }

  /** Start the timer: every rig is first due within one interval from now, at its phase. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.startedAt = this.opts.now();
    this.cycle = 0;
    this.cursor = 0;
    this.cycleStats = this.newStats(++this.roundNo, this.startedAt);
    this.tick();
  }

  /** Counters since construction (see the invariant in the module comment). */
  stats(): SchedulerCounters {
    return { ...this.counters, skipped: { ...this.counters.skipped } };
  }

  private newStats(round: number, startedMs: number): RoundStats {
    return { round, started_ms: startedMs, duration_ms: null, polled: 0, answered: 0, skipped: 0 };
  }

  private tick = (): void => {
    this.timer = null;
    if (this.stopped || this.startedAt === null) return;
    const { intervalMs, now } = this.opts;
    const t = now();
    const n = this.slots.length;
    for (;;) {
      const base = this.startedAt + this.cycle * intervalMs;
      if (this.cursor >= n) {
        // A cycle closed: keep its figures if anything settled in it (a cycle of hung polls is not a sweep).
        const closed = this.cycleStats!;
        closed.duration_ms = intervalMs;
        const settled = this.prevCycle;
        if (settled && (settled.polled > 0 || n === 0)) this.last = settled;
        this.prevCycle = closed;
        this.cycle += 1;
        this.cursor = 0;
        this.cycleStats = this.newStats(++this.roundNo, base + intervalMs);
        if (base + intervalMs > t) break;
        continue;
      }
      const slot = this.slots[this.cursor]!;
      const dueMs = base + slot.phase_ms;
      if (dueMs > t + TICK_MS / 2) break;
      this.cursor += 1;
      this.due(slot, dueMs, this.cycleStats!);
    }
    this.dispatch();
    const base = this.startedAt + this.cycle * intervalMs;
    const nextDue = this.cursor < n ? base + this.slots[this.cursor]!.phase_ms : base + intervalMs;
    this.timer = setTimeout(this.tick, Math.max(TICK_MS, nextDue - now()));
  };

  /** One slot comes due for this rig. */
  private due(slot: Slot, dueMs: number, stats: RoundStats): void {
    this.counters.due += 1;
    if (slot.owed_ms !== null) {
      // The slot owed before this one never started: it is lost, with its reason.
      this.skip(slot, slot.in_flight ? 'skipped_busy' : 'deadline', slot.owed_ms, stats);
      this.counters.owed -= 1;
      slot.owed_ms = null;
    }
    // A rig in backoff sits out a slot that comes before the middle of its backoff time, so a ±jittered delay
    // of exactly k intervals maps to k slots.
    if (slot.not_before_ms > dueMs + this.opts.intervalMs / 2) {
      this.skip(slot, 'backoff', dueMs, stats);
      return;
    }
    slot.owed_ms = dueMs;
    this.counters.owed += 1;
    if (slot.in_flight) {
      slot.late = true;
      return; // started when the poll in flight settles
    }
    slot.late = false;
    this.enqueue(slot, stats);
  }

  private skip(slot: Slot, reason: SkipReason, dueMs: number, stats: RoundStats): void {
    this.counters.skipped[reason] += 1;
    stats.skipped += 1;
    try {
      this.opts.onSkip?.(slot.target, reason, dueMs);
    } catch (err) {
      this.opts.log.error({ address: slot.target.address, err: errorMessage(err) }, 'skip handler failed');
    }
  }

  private enqueue(slot: Slot, stats: RoundStats, done?: () => void): void {
    if (slot.queued) return;
    slot.queued = true;
    const lane = slot.failures > 0 ? this.failing : this.answering;
    lane.queue.push(() => {
      slot.queued = false;
      // The owed slot may have been recorded as skipped while this waited, or be already running.
      if (slot.owed_ms === null || slot.in_flight || this.stopped) {
        lane.running -= 1;
        done?.();
        return;
      }
      slot.lane = lane;
      this.start1(slot, stats, done);
    });
  }

  /** Run queued work while slots are free, in each lane. */
  private dispatch(): void {
    for (const lane of this.lanes) {
      while (lane.running < this.opts.concurrency && lane.head < lane.queue.length) {
        const job = lane.queue[lane.head]!;
        lane.head += 1;
        lane.running += 1;
        job();
      }
      if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
        lane.queue = lane.queue.slice(lane.head);
        lane.head = 0;
      }
    }
  }

  private start1(slot: Slot, stats: RoundStats, done?: () => void): void {
    this.counters.owed -= 1;
    this.counters.started += 1;
    if (slot.late) this.counters.late += 1;
    slot.owed_ms = null;
    slot.late = false;
    slot.in_flight = true;
    this.counters.in_flight += 1;
    const startMs = this.opts.now();
    slot.last_poll_ms = startMs;
    if (slot.lane === this.answering) {
      this.answeringStarts.push({ slot, startMs });
      this.armOverdue();
    }
    const p = this.poll(slot.target, this.shutdown.signal).then(
      (sample) => this.settle(slot, stats, startMs, sample),
      (err) => {
        // The poll function should never throw (pollRig returns offline samples); keep scheduling anyway.
        this.opts.log.error({ address: slot.target.address, err: errorMessage(err) }, 'poll function threw');
        this.settle(slot, stats, startMs, null);
      },
    );
    this.pending.add(p);
    void p.finally(() => {
      this.pending.delete(p);
      done?.();
    });
  }

  private settle(slot: Slot, stats: RoundStats, startMs: number, sample: Sample | null): void {
    slot.in_flight = false;
    this.counters.in_flight -= 1;
    this.counters.settled += 1;
    if (slot.lane) slot.lane.running -= 1;
    // An overdue poll's place is free: the next one waiting for it may move.
    if (slot.lane === this.overdue) this.armOverdue();
    slot.lane = null;
    stats.polled += 1;
    // The timer's current cycle counts it too when a round is not the one tracking it.
    if (sample?.poll.ok) {
      stats.answered += 1;
      this.counters.answered += 1;
      slot.failures = 0;
      slot.not_before_ms = 0;
    } else {
      this.fail(slot, startMs);
    }
    if (sample && !(this.stopped && !sample.poll.ok)) {
      // A poll cancelled by shutdown is not a real observation.
      try {
        this.onSample(sample, slot.target);
      } catch (err) {
        this.opts.log.error(
          { address: slot.target.address, err: errorMessage(err) },
          'sample handler failed',
        );
      }
    }
    // A late slot starts now that the rig is free.
    if (slot.owed_ms !== null && !this.stopped) this.enqueue(slot, this.cycleStats ?? stats);
    this.dispatch();
  }

  /**
   * One synchronized round (tests drive this with an injected clock): every target not in backoff is due now;
   * those still in flight are recorded `skipped_busy`. Resolves when the round's polls settled.
   */
  async runRound(): Promise<RoundStats> {
    const now = this.opts.now();
    const stats = this.newStats(++this.roundNo, now);
    return this.roundOf(now, stats, false);
  }

  /** Poll every target once now, ignoring backoff (those in flight are recorded `skipped_busy`). */
  sweep(): Promise<RoundStats> {
    const now = this.opts.now();
    return this.roundOf(now, this.newStats(0, now), true);
  }

  private async roundOf(now: number, stats: RoundStats, sweep: boolean): Promise<RoundStats> {
    const t0 = performance.now();
    const waits: Promise<void>[] = [];
    for (const slot of this.slots) {
      this.counters.due += 1;
      if (slot.in_flight || slot.owed_ms !== null) {
        this.skip(slot, 'skipped_busy', now, stats);
        continue;
      }
      if (!sweep && slot.not_before_ms > now + this.opts.intervalMs / 2) {
        this.skip(slot, 'backoff', now, stats);
        continue;
      }
      slot.owed_ms = now;
      slot.late = false;
      this.counters.owed += 1;
      waits.push(new Promise<void>((resolve) => this.enqueue(slot, stats, resolve)));
    }
    this.dispatch();
    const all = Promise.all(waits);
    this.pending.add(all);
    await all;
    this.pending.delete(all);
    stats.duration_ms = Math.round((performance.now() - t0) * 10) / 10;
    if (!sweep || this.last === null) this.last = stats;
    return stats;
  }

  /** The last completed round, or the last timer cycle in which a poll settled. */
  lastRound(): RoundStats | null {
    return this.last ? { ...this.last } : null;
  }

  /** The target polled at this address, if any. */
  targetAt(address: string): RigTarget | undefined {
    return this.byAddress.get(address)?.target;
  }

  /** The slot of this target (not of another target at its address). */
  private slotOf(t: RigTarget): Slot | undefined {
    const slot = this.byAddress.get(t.address);
    return slot?.target === t ? slot : undefined;
  }

  stateOf(t: RigTarget): TargetState | undefined {
    const slot = this.slotOf(t);
    if (!slot) return undefined;
    const { target: _t, queued: _q, lane: _l, ...st } = slot;
    return st;
  }

  /** When this target will next be polled (collector clock), null if not scheduled. */
  nextPollMs(t: RigTarget): number | null {
    const slot = this.slotOf(t);
    if (!slot || this.stopped || this.startedAt === null) return null;
    if (slot.owed_ms !== null) return slot.owed_ms;
    const { intervalMs } = this.opts;
    // Slots are in phase order: one whose phase is before the cursor's already came due in this cycle.
    const next = this.slots[this.cursor];
    const passed = next === undefined || slot.phase_ms < next.phase_ms;
    let due = this.startedAt + (this.cycle + (passed ? 1 : 0)) * intervalMs + slot.phase_ms;
    if (slot.not_before_ms > due + intervalMs / 2) {
      due += Math.ceil((slot.not_before_ms - intervalMs / 2 - due) / intervalMs) * intervalMs;
    }
    return due;
  }

  inFlight(): number {
    return this.counters.in_flight;
  }

  /**
   * Move the answering lane's overdue polls (oldest first) to the overdue budget while it has room, and let the
   * queued rigs have their slots.
   */
  private releaseOverdue = (): void => {
    this.overdueTimer = null;
    const now = this.opts.now();
    const budget = this.opts.concurrency * OVERDUE_BUDGET;
    let moved = false;
    while (this.startsHead < this.answeringStarts.length) {
      const { slot, startMs } = this.answeringStarts[this.startsHead]!;
      const current = slot.in_flight && slot.lane === this.answering && slot.last_poll_ms === startMs;
      if (current) {
        if (now - startMs < this.opts.overdueMs) break;
        // Full: wait for an overdue poll to settle (settle() arms the check again).
        if (this.overdue.running >= budget) {
          this.compactStarts(moved);
          return;
        }
        this.answering.running -= 1;
        this.overdue.running += 1;
        slot.lane = this.overdue;
        this.counters.overdue += 1;
        moved = true;
      }
      this.startsHead += 1;
    }
    this.compactStarts(moved);
    this.armOverdue();
  };

  private compactStarts(moved: boolean): void {
    if (this.startsHead > 1024 && this.startsHead * 2 > this.answeringStarts.length) {
      this.answeringStarts = this.answeringStarts.slice(this.startsHead);
      this.startsHead = 0;
    }
    if (moved) this.dispatch();
  }

  /** A check when the oldest poll of the answering lane turns overdue. */
  private armOverdue(): void {
    if (this.overdueTimer || this.stopped || this.startsHead >= this.answeringStarts.length) return;
    const { startMs } = this.answeringStarts[this.startsHead]!;
    const delay = Math.max(TICK_MS, startMs + this.opts.overdueMs - this.opts.now());
    this.overdueTimer = setTimeout(this.releaseOverdue, delay);
    // Polls in flight keep the process alive by their sockets; this timer must not on its own.
    this.overdueTimer.unref();
  }

  /** Stop the timer, abort polls in flight and wait for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.overdueTimer) clearTimeout(this.overdueTimer);
    this.overdueTimer = null;
    this.shutdown.abort();
    // Work still queued never starts: release whoever awaits it.
    this.dispatchAllStopped();
    await Promise.allSettled([...this.pending]);
  }

  private dispatchAllStopped(): void {
    for (const lane of this.lanes) {
      while (lane.head < lane.queue.length) {
        const job = lane.queue[lane.head]!;
        lane.head += 1;
        lane.running += 1;
        job();
      }
    }
  }

  private fail(slot: Slot, startMs: number): void {
    slot.failures += 1;
    const { intervalMs, backoffMaxMs, jitter, random } = this.opts;
    const ceiling = Math.max(intervalMs, backoffMaxMs);
    const base = Math.min(ceiling, intervalMs * 2 ** Math.min(slot.failures - 1, 40));
    slot.not_before_ms = startMs + base * (1 + jitter * (2 * random() - 1));
  }
}

/**
 * The shutdown signal every poll in flight listens to (one listener each, up to `poll.concurrency`): no
 * listener-leak warning at 11.
 */
function shutdownController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

/**
 * Poll scheduling. Rounds start every `intervalMs` (drift-free: round k at start + k·interval). A round polls
 * every target that is not in backoff and not still in flight, with at most `concurrency` polls at once. Each
 * poll has its own deadline (enforced by the poll function), so a hanging rig only holds one slot until then and
 * never delays the rest of the round. Dead rigs back off exponentially (interval · 2^(failures-1), capped at
 * `backoffMaxMs`, ±jitter so rigs that died together do not come back in lockstep); one answer resets it.
 */
import { errorMessage } from '../lib/errors.js';
import { type Logger, silentLogger } from '../lib/log.js';
import type { Sample } from '../protocols/sample.js';
import type { RigTarget } from './poll.js';

export interface SchedulerOptions {
  intervalMs: number;
  concurrency: number;
  backoffMaxMs: number;
  /** Fraction of the backoff delay used as ± jitter (default 0.1). */
  jitter?: number;
  now?: () => number;
  log?: Logger;
  random?: () => number;
}

export interface RoundStats {
  round: number;
  started_ms: number;
  /** Until the last poll of the round settled. */
  duration_ms: number | null;
  polled: number;
  answered: number;
  /** Targets skipped because they were in backoff or still in flight. */
  skipped: number;
}

export interface TargetState {
  failures: number;
  /** Not polled by a round before this time (backoff). */
  not_before_ms: number;
  in_flight: boolean;
  last_poll_ms: number | null;
}

export type PollFn = (target: RigTarget, signal: AbortSignal) => Promise<Sample>;

export class Scheduler {
  private readonly targets: RigTarget[];
  private readonly state = new Map<RigTarget, TargetState>();
  private readonly poll: PollFn;
  private readonly onSample: (s: Sample, t: RigTarget) => void;
  private readonly opts: Required<Omit<SchedulerOptions, 'log'>> & { log: Logger };
  private readonly shutdown = new AbortController();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt: number | null = null;
  private roundNo = 0;
  private last: RoundStats | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    targets: RigTarget[],
    poll: PollFn,
    onSample: (s: Sample, t: RigTarget) => void,
    opts: SchedulerOptions,
  ) {
    this.targets = [...targets];
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
    };
    for (const t of this.targets) {
      this.state.set(t, { failures: 0, not_before_ms: 0, in_flight: false, last_poll_ms: null });
    }
  }

  /** Poll more targets from the next round on (rigs found by a rescan). Returns those not already polled. */
  add(targets: readonly RigTarget[]): RigTarget[] {
    const known = new Set(this.targets.map((t) => t.address));
    const added = targets.filter((t) => !known.has(t.address));
    for (const t of added) {
      this.targets.push(t);
      this.state.set(t, { failures: 0, not_before_ms: 0, in_flight: false, last_poll_ms: null });
    }
    return added;
  }

  size(): number {
    return this.targets.length;
  }

  /** Signal aborted on stop(): pass it to polls so shutdown cancels them. */
  get signal(): AbortSignal {
    return this.shutdown.signal;
  }

  /** Start rounds on a timer: the first now, then every interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.startedAt = this.opts.now();
    const tick = () => {
      if (this.stopped) return;
      void this.runRound().catch((err) =>
        this.opts.log.error({ err: errorMessage(err) }, 'poll round failed'),
      );
      const { intervalMs, now } = this.opts;
      // If the process stalled past whole rounds, skip them instead of firing a burst.
      const behind = Math.floor((now() - this.startedAt!) / intervalMs);
      if (behind > this.roundNo) this.roundNo = behind;
      const next = this.startedAt! + this.roundNo * intervalMs;
      this.timer = setTimeout(tick, Math.max(0, next - now()));
    };
    tick();
  }

  /**
   * One scheduled round: poll every target not in backoff and not in flight. Resolves when all its polls
   * settled. Tests drive this directly with an injected clock.
   */
  async runRound(): Promise<RoundStats> {
    const now = this.opts.now();
    this.roundNo += 1;
    // A target in backoff is eligible if its time comes before the middle of this round's interval, so
    // a ±jittered delay of exactly k intervals maps to k rounds.
    const horizon = now + this.opts.intervalMs / 2;
    const due = this.targets.filter((t) => {
      const st = this.state.get(t)!;
      return !st.in_flight && st.not_before_ms <= horizon;
    });
    return this.pollAll(due, now, this.targets.length - due.length, false);
  }

  /** Poll every target once now, ignoring backoff (those in flight are skipped). For benchmarks and `sweepNow`. */
  sweep(): Promise<RoundStats> {
    const now = this.opts.now();
    const due = this.targets.filter((t) => !this.state.get(t)!.in_flight);
    return this.pollAll(due, now, this.targets.length - due.length, true);
  }

  /** The last completed round. */
  lastRound(): RoundStats | null {
    return this.last ? { ...this.last } : null;
  }

  stateOf(t: RigTarget): TargetState | undefined {
    const st = this.state.get(t);
    return st ? { ...st } : undefined;
  }

  /** When this target will next be polled (collector clock), null if not scheduled. */
  nextPollMs(t: RigTarget): number | null {
    const st = this.state.get(t);
    if (!st || this.stopped || this.startedAt === null) return null;
    const nextRound = this.startedAt + this.roundNo * this.opts.intervalMs;
    if (st.not_before_ms <= nextRound + this.opts.intervalMs / 2) return nextRound;
    const k = Math.ceil(
      (st.not_before_ms - this.opts.intervalMs / 2 - this.startedAt) / this.opts.intervalMs,
    );
    return this.startedAt + k * this.opts.intervalMs;
  }

  inFlight(): number {
    return this.running;
  }

  /** Stop the timer, abort polls in flight and wait for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.shutdown.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async pollAll(due: RigTarget[], now: number, skipped: number, sweep: boolean): Promise<RoundStats> {
    const stats: RoundStats = {
      round: sweep ? 0 : this.roundNo,
      started_ms: now,
      duration_ms: null,
      polled: 0,
      answered: 0,
      skipped,
    };
    const t0 = performance.now();
    for (const t of due) this.state.get(t)!.in_flight = true;
    const jobs = due.map((t) => this.pollOne(t, stats));
    const all = Promise.allSettled(jobs);
    this.pending.add(all);
    await all;
    this.pending.delete(all);
    stats.duration_ms = Math.round((performance.now() - t0) * 10) / 10;
    if (!sweep || this.last === null) this.last = stats;
    return stats;
  }

  private async pollOne(t: RigTarget, stats: RoundStats): Promise<void> {
    const st = this.state.get(t)!;
    await this.acquire();
    try {
      if (this.stopped) return;
      const startMs = this.opts.now();
      st.last_poll_ms = startMs;
      let sample: Sample;
      try {
        sample = await this.poll(t, this.shutdown.signal);
      } catch (err) {
        // The poll function should never throw (pollRig returns offline samples); keep scheduling anyway.
        this.opts.log.error({ address: t.address, err: errorMessage(err) }, 'poll function threw');
        this.fail(st, startMs);
        return;
      }
      stats.polled += 1;
      if (sample.poll.ok) {
        stats.answered += 1;
        st.failures = 0;
        st.not_before_ms = 0;
      } else {
        this.fail(st, startMs);
      }
      if (this.stopped && !sample.poll.ok) return; // cancelled by shutdown: not a real observation
      try {
        this.onSample(sample, t);
      } catch (err) {
        this.opts.log.error({ address: t.address, err: errorMessage(err) }, 'sample handler failed');
      }
    } finally {
      st.in_flight = false;
      this.release();
    }
  }

  private fail(st: TargetState, startMs: number): void {
    st.failures += 1;
    const { intervalMs, backoffMaxMs, jitter, random } = this.opts;
    const ceiling = Math.max(intervalMs, backoffMaxMs);
    const base = Math.min(ceiling, intervalMs * 2 ** Math.min(st.failures - 1, 40));
    st.not_before_ms = startMs + base * (1 + jitter * (2 * random() - 1));
  }

  private acquire(): Promise<void> {
    if (this.running < this.opts.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(() => resolve()));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

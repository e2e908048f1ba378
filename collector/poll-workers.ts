/**
 * A pool of poll worker threads (collector/poll-worker.ts). It hands out `MinerDriver`s whose `poll()` runs in
 * a worker: the main thread keeps the deadline, identity, power, fleet state and journal (collector/poll.ts
 * wraps these drivers like any other), the worker does the socket, decoding, parsing and plausibility.
 *
 * Jobs go to the worker with the fewest polls in flight, gathered into one message per worker per turn of the
 * event loop; results come back the same way. An abort (deadline or shutdown) settles the poll at once on the
 * main thread and tells the worker to drop it. A worker that dies fails its polls in flight with
 * RT_ERR_SCHED_WORKER_DIED and is replaced.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RtError, registeredErrors } from '../lib/errors.js';
import { hashString32 } from '../lib/hash.js';
import { workerEntry } from '../lib/worker-entry.js';
import type { MinerDriver, PollTarget } from '../protocols/driver.js';
import type { Family, MinerReading } from '../protocols/sample.js';
import { SchedErrors } from './errors.js';
import { type Logger, silentLogger } from './journal.js';
import type { FromWorker, JobResult, ToWorker, WireJob } from './poll-wire.js';

/**
 * Each worker's young generation (MiB): V8's default (48: two 16 MB semi-spaces and their large-object space)
 * is sized for throughput and, once touched, stays resident. A poll's objects die within its poll (a few hundred
 * ms), so 4 MB semi-spaces (the main thread's, cli/heap.ts) hold them; docs/scaling.md has the measured RSS and CPU.
 */
const WORKER_YOUNG_MB = 12;

/** A worker index for `address`, the same for every poll (the hash that also gives the rig its phase). */
export function homeIndex(address: string, workers: number): number {
  return workers <= 1 ? 0 : hashString32(address) % workers;
}

/** `poll.workers` unset: one worker per core but one (the main thread keeps the last), at least one. */
export function defaultPollWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Pending {
  resolve: (r: MinerReading) => void;
  reject: (e: unknown) => void;
  address: string;
}

interface Slot {
  index: number;
  worker: Worker;
  inFlight: Map<number, Pending>;
  jobs: WireJob[];
  aborts: number[];
  flushQueued: boolean;
  /** Resolves when the worker has loaded its drivers. */
  ready: Promise<void>;
  markReady: () => void;
  /** performance.now() when it was started. */
  startedAt: number;
  /** Exited and waiting out its restart delay: takes no jobs. */
  dead: boolean;
}

/** A worker that dies sooner than this after its start is crash-looping: its restart waits, longer each time. */
const CRASH_LOOP_MS = 10_000;
const RESTART_DELAY_MIN_MS = 500;
const RESTART_DELAY_MAX_MS = 30_000;

export interface PollWorkerPoolOptions {
  size: number;
  /** Each job's deadline inside the worker (poll.poll_deadline_ms). */
  deadlineMs: number;
  /** Families resolved on the main thread for `driver.family` (protocols/registry.ts driverFor). */
  familyOf: (family: Family | 'auto') => Family;
  log?: Logger;
}

export interface PollWorkerStats {
  workers: number;
  in_flight: number;
  /** Workers that died and were replaced. */
  restarts: number;
  /** Polls failed because their worker died. */
  lost: number;
}

export class PollWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly log: Logger;
  private nextId = 1;
  private closed = false;
  private restarts = 0;
  private lost = 0;

  constructor(private readonly opts: PollWorkerPoolOptions) {
    this.log = opts.log ?? silentLogger;
    for (let i = 0; i < Math.max(1, opts.size); i++) this.slots.push(this.spawn(i));
  }

  private spawn(index: number): Slot {
    const worker = new Worker(workerEntry(import.meta.url, 'poll-worker'), {
      // No old-generation cap: a worker may hold up to poll.concurrency replies of max_reply_bytes each. How far
      // its heap grows over what it keeps is set process-wide (cli/heap.ts).
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    let loaded = () => {};
    const ready = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const slot: Slot = {
      index,
      worker,
      inFlight: new Map(),
      jobs: [],
      aborts: [],
      flushQueued: false,
      ready,
      markReady: loaded,
      startedAt: performance.now(),
      dead: false,
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.t === 'done') for (const r of msg.results) this.settle(slot, r);
      else if (msg.t === 'ready') slot.markReady();
    });
    worker.on('error', (err) => {
      this.log.error({ worker: index, err: err.message }, 'poll worker failed');
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onExit(slot: Slot, code: number): void {
    if (this.slots[slot.index] !== slot) return;
    slot.markReady(); // a worker that died while loading is not waited for
    const pending = [...slot.inFlight.values()];
    slot.inFlight.clear();
    for (const p of pending) {
      this.lost += 1;
      p.reject(SchedErrors.workerDied(p.address, code));
    }
    if (this.closed) return;
    this.restarts += 1;
    // A worker that keeps dying at once (a broken install, a crash on every job) is restarted later and later,
    // not in a tight loop; its polls meanwhile fail at once with RT_ERR_SCHED_WORKER_DIED (backed off like any
    // failure) unless another worker is alive.
    // The first early death restarts at once (a killed worker, one bad job); the next ones in a row wait.
    this.quickDeaths = performance.now() - slot.startedAt < CRASH_LOOP_MS ? this.quickDeaths + 1 : 0;
    this.restartDelayMs =
      this.quickDeaths < 2
        ? 0
        : Math.min(RESTART_DELAY_MAX_MS, RESTART_DELAY_MIN_MS * 2 ** (this.quickDeaths - 2));
    this.log.warn(
      { worker: slot.index, code, lost: pending.length, restart_in_ms: this.restartDelayMs },
      'poll worker exited; restarting it',
    );
    if (this.restartDelayMs === 0) {
      this.slots[slot.index] = this.spawn(slot.index);
      return;
    }
    slot.dead = true;
    setTimeout(() => {
      if (!this.closed && this.slots[slot.index] === slot) this.slots[slot.index] = this.spawn(slot.index);
    }, this.restartDelayMs).unref();
  }

  /** Workers in a row that died within CRASH_LOOP_MS of their start, and the restart delay that follows. */
  private quickDeaths = 0;
  private restartDelayMs = 0;

  private settle(slot: Slot, r: JobResult): void {
    const p = slot.inFlight.get(r.id);
    if (!p) return; // aborted on this side already
    slot.inFlight.delete(r.id);
    if ('reading' in r) p.resolve(r.reading as MinerReading);
    else if (r.error.code === null) p.reject(new Error(r.error.message));
    else
      p.reject(new RtError(r.error.code, r.error.message, registeredErrors().get(r.error.code)?.httpStatus));
  }

  private queue(slot: Slot, fill: (s: Slot) => void): void {
    fill(slot);
    if (slot.flushQueued) return;
    slot.flushQueued = true;
    setImmediate(() => {
      slot.flushQueued = false;
      if (this.slots[slot.index] !== slot) return;
      if (slot.jobs.length > 0) {
        const msg: ToWorker = { t: 'jobs', jobs: slot.jobs };
        slot.jobs = [];
        slot.worker.postMessage(msg);
      }
      if (slot.aborts.length > 0) {
        const msg: ToWorker = { t: 'abort', ids: slot.aborts };
        slot.aborts = [];
        slot.worker.postMessage(msg);
      }
    });
  }

  /**
   * The worker that polls `address` every time: each keeps what it learned of a rig (refused joins and
   * commands, identity, family, Whatsminer tokens) per address, so a rig sent to whichever worker was least
   * busy was learned once per worker, with the connections that costs (2.38 per poll in a first 10,000-rig
   * sweep over two workers against 1.38 over one). While that worker waits out a restart, the live one with
   * the fewest polls in flight; undefined while every worker does.
   */
  private pick(address: string): Slot | undefined {
    const home = this.slots[homeIndex(address, this.slots.length)];
    if (home && !home.dead) return home;
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.dead && (!best || s.inFlight.size < best.inFlight.size)) best = s;
    return best;
  }

  /** Run one poll in a worker. Rejects like a driver would: RtError, or a plain Error for an unnamed failure. */
  poll(family: Family | 'auto', target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    if (this.closed) return Promise.reject(SchedErrors.workerDied(`${target.host}:${target.port}`, null));
    if (signal.aborted) return Promise.reject(signal.reason);
    const address = `${target.host}:${target.port}`;
    const slot = this.pick(address);
    if (!slot) return Promise.reject(SchedErrors.workerDied(address, null));
    const id = this.nextId++;
    const { password, ...rest } = target;
    const job: WireJob = {
      id,
      family,
      target: password === undefined ? rest : { ...rest, password: password.reveal() },
      deadline_ms: this.opts.deadlineMs,
    };
    return new Promise<MinerReading>((resolve, reject) => {
      const onAbort = () => {
        if (!slot.inFlight.delete(id)) return;
        this.queue(slot, (s) => s.aborts.push(id));
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      slot.inFlight.set(id, {
        address,
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.queue(slot, (s) => s.jobs.push(job));
    });
  }

  /** A driver for `family` whose polls run in this pool. */
  driverFor(family: Family | 'auto'): MinerDriver {
    return { family: this.opts.familyOf(family), poll: (t, signal) => this.poll(family, t, signal) };
  }

  /**
   * Resolves when every worker has loaded its drivers (through tsx that compiles protocols/ in each worker,
   * seconds on a busy machine). Await it before polling, or the first polls' deadlines run during the load.
   */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  stats(): PollWorkerStats {
    let inFlight = 0;
    for (const s of this.slots) inFlight += s.inFlight.size;
    return { workers: this.slots.length, in_flight: inFlight, restarts: this.restarts, lost: this.lost };
  }

  /** Stop worker `index` as if it had crashed (tests, and an operator's escape hatch); it is replaced. */
  async kill(index: number): Promise<void> {
    const slot = this.slots[index];
    if (slot) await slot.worker.terminate();
  }

  /** Stop every worker; polls still in flight fail with RT_ERR_SCHED_WORKER_DIED. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

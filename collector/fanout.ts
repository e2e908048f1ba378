/**
 * Fan-out: each sink reads the journal from its own acknowledged offset, writes a batch, acknowledges, loops.
 * A failing sink backs off (exponential, with jitter) and retries the same batch; it never delays another sink
 * nor the poll path (polls only append to the journal and `kick()`).
 */
import { errorCode, errorMessage, RtError } from '../lib/errors.js';
import { type Logger, silentLogger } from '../lib/log.js';
import { poisonCodes } from './errors.js';
import type { Journal } from './journal.js';
import type { JournalEntry, Sink, SinkStatus } from './sinks/sink.js';

export interface FanoutOptions {
  batchSize?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: Logger;
  now?: () => number;
  /** Trim the journal at most this often (ms). */
  trimEveryMs?: number;
  /** While backing off, ask the sink's probe this often whether its service is back (ms; 0: never). */
  probeEveryMs?: number;
}

interface Lane {
  sink: Sink;
  status: SinkStatus;
  opened: boolean;
  attempt: number;
  /** After a poison error on a batch, retry one entry at a time to find the bad one. */
  single: boolean;
  wake: (() => void) | null;
  /** The one timer of this lane (idle re-check or backoff); cleared whenever the lane wakes. */
  timer: NodeJS.Timeout | null;
  /** A kick that arrived while the lane was busy: do not go idle on it. */
  kicked: boolean;
  done: Promise<void> | null;
  skipped: number;
  /** Waiting out the sink's `lingerMs` after a write: new samples do not wake it, flush and stop do. */
  lingering: boolean;
}

export class Fanout {
  private readonly journal: Journal;
  private readonly lanes: Lane[];
  private readonly batchSize: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly trimEveryMs: number;
  private readonly probeEveryMs: number;
  private lastTrim = 0;
  private running = false;
  private stopping = false;

  constructor(journal: Journal, sinks: Sink[], opts: FanoutOptions = {}) {
    this.journal = journal;
    this.batchSize = opts.batchSize ?? 500;
    this.retryMinMs = opts.retryMinMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.trimEveryMs = opts.trimEveryMs ?? 1000;
    this.probeEveryMs = opts.probeEveryMs ?? 1000;
    const names = new Set<string>();
    for (const s of sinks) {
      if (names.has(s.name)) throw new Error(`two sinks are named ${s.name}`);
      names.add(s.name);
    }
    this.lanes = sinks.map((sink) => {
      journal.register(sink.name);
      return {
        sink,
        status: {
          name: sink.name,
          state: 'starting',
          lag_samples: 0,
          acked_seq: journal.acked(sink.name),
          last_ok_ms: null,
          last_error: null,
        },
        opened: false,
        attempt: 0,
        single: false,
        wake: null,
        timer: null,
        kicked: false,
        done: null,
        skipped: 0,
        lingering: false,
      };
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const lane of this.lanes) {
      lane.done = this.run(lane).catch((err) => {
        this.log.error({ sink: lane.sink.name, err: errorMessage(err) }, 'sink lane stopped unexpectedly');
      });
    }
  }

  /** New entries were appended: wake idle sinks (a sink in backoff keeps its backoff). */
  kick(): void {
    for (const lane of this.lanes) {
      if (lane.lingering) lane.kicked = true;
      else if (lane.status.state !== 'retrying') this.wakeLane(lane);
    }
  }

  status(): SinkStatus[] {
    const last = this.journal.lastSeq();
    return this.lanes.map((l) => ({
      ...l.status,
      acked_seq: this.journal.acked(l.sink.name),
      lag_samples: this.lagOf(l, last),
      last_error: l.status.last_error ? { ...l.status.last_error } : null,
    }));
  }

  /** Resolve true once every sink has acknowledged everything appended so far, false on timeout. */
  async flush(timeoutMs: number): Promise<boolean> {
    const target = this.journal.lastSeq();
    const until = performance.now() + timeoutMs;
    for (;;) {
      if (this.lanes.every((l) => this.journal.acked(l.sink.name) >= target)) return true;
      if (performance.now() >= until) return false;
      for (const l of this.lanes) if (l.status.state !== 'retrying') this.wakeLane(l);
      await sleep(Math.min(10, Math.max(1, until - performance.now())));
    }
  }

  /** Stop the lanes (an in-flight write gets a few seconds to settle), then close every sink. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    for (const lane of this.lanes) this.wakeLane(lane);
    const lanes = Promise.all(this.lanes.map((l) => l.done ?? Promise.resolve()));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      lanes,
      new Promise<void>((r) => {
        grace = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(grace);
    this.running = false;
    for (const lane of this.lanes) {
      try {
        if (lane.opened || lane.status.state !== 'closed') await lane.sink.close();
      } catch (err) {
        this.log.warn({ sink: lane.sink.name, err: errorMessage(err) }, 'sink did not close cleanly');
      }
      lane.status.state = 'closed';
    }
    this.maybeTrim(true);
  }

  private lagOf(lane: Lane, last: number): number {
    const acked = this.journal.acked(lane.sink.name);
    // Seqs are dense except where the journal dropped entries; this is an upper bound then.
    return Math.max(0, last - acked);
  }

  private async run(lane: Lane): Promise<void> {
    const name = lane.sink.name;
    while (!this.stopping) {
      if (!lane.opened) {
        try {
          await lane.sink.open();
          lane.opened = true;
          lane.attempt = 0;
          lane.status.state = 'ok';
          this.log.info({ sink: name }, 'sink open');
        } catch (err) {
          await this.failed(lane, err, 'open');
          continue;
        }
      }
      const acked = this.journal.acked(name);
      let batch: JournalEntry[];
      try {
        batch = this.journal.read(acked, lane.single ? 1 : this.batchOf(lane));
      } catch (err) {
        if (this.stopping) break;
        throw err;
      }
      if (batch.length === 0) {
        lane.single = false;
        await this.idle(lane);
        continue;
      }
      try {
        await lane.sink.write(batch);
      } catch (err) {
        if (err instanceof RtError && poisonCodes.has(err.code)) {
          if (batch.length > 1) {
            // Find the bad entry: one at a time until it is found and skipped.
            lane.single = true;
            continue;
          }
          lane.skipped += 1;
          this.log.warn(
            { sink: name, seq: batch[0]!.seq, code: err.code, err: err.message },
            'sink can never accept this sample; skipped for this sink',
          );
          this.ackLane(lane, batch[0]!.seq);
          continue;
        }
        await this.failed(lane, err, 'write');
        continue;
      }
      this.ackLane(lane, batch[batch.length - 1]!.seq);
      if (lane.single && batch.length === 1) lane.single = false;
      // Linger only once caught up: a full batch means more is waiting, and waiting then would cap the sink's
      // throughput at one batch per linger.
      const linger = lane.sink.lingerMs ?? 0;
      if (linger > 0 && !this.stopping && batch.length < (lane.single ? 1 : this.batchOf(lane))) {
        lane.lingering = true;
        await this.park(lane, linger, false);
        lane.lingering = false;
      }
    }
  }

  private batchOf(lane: Lane): number {
    return Math.max(1, Math.min(this.batchSize, lane.sink.maxBatch ?? this.batchSize));
  }

  private ackLane(lane: Lane, seq: number): void {
    try {
      this.journal.ack(lane.sink.name, seq);
    } catch (err) {
      // A write that outlived stop()'s grace period finished after the journal closed: it is replayed next start.
      if (this.stopping) return;
      throw err;
    }
    if (lane.status.state !== 'ok' && lane.attempt > 0) {
      this.log.info({ sink: lane.sink.name, after_attempts: lane.attempt }, 'sink recovered');
    }
    lane.attempt = 0;
    lane.status.state = 'ok';
    lane.status.last_ok_ms = this.now();
    this.maybeTrim(false);
  }

  private maybeTrim(force: boolean): void {
    const t = performance.now();
    if (!force && t - this.lastTrim < this.trimEveryMs) return;
    this.lastTrim = t;
    try {
      this.journal.trim();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'journal trim failed');
    }
  }

  private async failed(lane: Lane, err: unknown, what: 'open' | 'write'): Promise<void> {
    lane.attempt += 1;
    lane.status.state = 'retrying';
    lane.status.last_error = { code: errorCode(err), message: errorMessage(err), at_ms: this.now() };
    const ceiling = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(lane.attempt - 1, 30));
    // Jitter between half and all of the ceiling: sinks that failed together do not retry in lockstep.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const level = lane.attempt === 1 || lane.attempt % 10 === 0 ? 'warn' : 'debug';
    this.log[level](
      {
        sink: lane.sink.name,
        code: errorCode(err),
        err: errorMessage(err),
        attempt: lane.attempt,
        retry_in_ms: Math.round(delay),
      },
      `sink ${what} failed; retrying`,
    );
    await this.sleepLane(lane, delay);
  }

  private idle(lane: Lane): Promise<void> {
    if (lane.kicked) {
      lane.kicked = false;
      return Promise.resolve();
    }
    // Re-check the journal now and then even without a kick (e.g. appends made by another path).
    return this.park(lane, 1000, false);
  }

  /** Back off for `ms`, asking the sink's probe (if any) whether its service is back in the meantime. */
  private sleepLane(lane: Lane, ms: number): Promise<void> {
    lane.kicked = false;
    return this.park(lane, ms, true);
  }

  /**
   * Park the lane until `ms` pass or something wakes it. One timer per lane, always cleared on wake: a timer
   * left over from an idle wait must never cut a later backoff short (which made attempts race from 1 to 10
   * in under a second).
   */
  private park(lane: Lane, ms: number, probing: boolean): Promise<void> {
    return new Promise((resolve) => {
      const until = performance.now() + ms;
      let probe: Promise<unknown> | null = null;
      const finish = () => {
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        lane.wake = null;
        resolve();
      };
      const tick = () => {
        const left = until - performance.now();
        if (left <= 0) return finish();
        const canProbe = probing && this.probeEveryMs > 0 && lane.sink.probe !== undefined;
        if (canProbe && probe === null && left > this.probeEveryMs / 2) {
          probe = lane.sink.probe!().then(
            (up) => {
              probe = null;
              if (up && lane.wake === finish) {
                this.log.info(
                  { sink: lane.sink.name, attempt: lane.attempt },
                  'sink service answers again; retrying now',
                );
                finish();
              }
            },
            () => {
              probe = null;
            },
          );
        }
        lane.timer = setTimeout(tick, canProbe ? Math.min(left, this.probeEveryMs) : left);
        if (!probing) lane.timer.unref();
      };
      lane.wake = finish;
      if (lane.timer) clearTimeout(lane.timer);
      lane.timer = null;
      if (probing && this.probeEveryMs > 0 && lane.sink.probe !== undefined) {
        // The first probe waits one period: the failure that started this backoff is fresh news.
        lane.timer = setTimeout(tick, Math.min(ms, this.probeEveryMs));
      } else {
        lane.timer = setTimeout(finish, ms);
        if (!probing) lane.timer.unref();
      }
    });
  }

  private wakeLane(lane: Lane): void {
    if (lane.wake) lane.wake();
    else lane.kicked = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

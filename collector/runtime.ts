/**
 * The collector, composed: scheduler → poll → journal → live fleet → fan-out → sinks (embedded store, …).
 * Each sample: journal.append → fleet update → fanout.kick → listeners.
 */
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { MinerDriver } from '../protocols/driver.js';
import type { Family, MinerReading, Sample } from '../protocols/sample.js';
import { normalizeAddress, parseAddress } from './address.js';
import { AlertEngine } from './alerts.js';
import { type DirLock, lockDir } from './dir-lock.js';
import { StorageErrors } from './errors.js';
import { Fanout } from './fanout.js';
import { Fleet } from './fleet.js';
import { IdentityMap } from './identity.js';
import { Journal } from './journal.js';
import { pollRig, type RigTarget } from './poll.js';
import type { PowerMeter } from './power.js';
import { rigNamesFromConfig } from './rig-names.js';
import { type RoundStats, Scheduler, type SkipReason } from './scheduler.js';
import { EmbeddedStore } from './sinks/embedded.js';
import { sinksFromConfig } from './sinks/index.js';
import type { Sink } from './sinks/sink.js';
import type { FleetView, HealthView, HistoryStore } from './views.js';

export type { Logger } from '../lib/log.js';
export type { RigTarget } from './poll.js';

export interface CollectorDeps {
  log: Logger;
  driverFor: (family: Family | 'auto') => MinerDriver;
  meter?: PowerMeter;
  estimatePowerW?: (r: MinerReading) => number | null;
  extraSinks?: Sink[];
  now?: () => number;
  /** The storage dir's lock, when the caller took it already (`rigtel run` takes it before starting anything). */
  dirLock?: DirLock;
  /** Start the poll timer (default true). Tests set false and drive `sweepNow()`. */
  autoStart?: boolean;
  /** What `storage.store_writes: auto` means for this caller (default inline; `rigtel run` with poll workers: thread). */
  storeWrites?: 'thread' | 'inline';
}

export interface CollectorRuntime {
  fleet: FleetView;
  history: HistoryStore;
  health: HealthView;
  journal: Journal;
  fanout: Fanout;
  /** The embedded store (also `history`), for rollups and identity. */
  store: EmbeddedStore;
  /** The one alert engine: every sample feeds it; the API lists `alerts.active()`, the MQTT sink its events. */
  alerts: AlertEngine;
  /** Every sink the fan-out delivers to (e.g. to publish alerts raised outside the sinks on MQTT). */
  sinks: readonly Sink[];
  onSample(fn: (s: Sample) => void): () => void;
  /** Start the poll timer (when started with `autoStart: false`); does nothing once started or stopped. */
  start(): void;
  /** Poll every rig once now (ignoring backoff); resolves once the samples are journalled and in the fleet. */
  sweepNow(): Promise<RoundStats>;
  /** Poll one rig (by polled address) now, outside its schedule; null when no such rig is polled. */
  pollNow(address: string): Promise<Sample | null>;
  /** The last completed round. */
  lastRound(): RoundStats | null;
  /** Start polling more rigs (found by a rescan); returns those that were not polled already. */
  addTargets(targets: readonly RigTarget[]): RigTarget[];
  stop(): Promise<void>;
}

/** Rig targets from validated config; addresses are normalized to host:port (default port 4028). */
export function targetsFromConfig(config: Config): RigTarget[] {
  return config.rigs.map((rig) => {
    const { host, port } = parseAddress(rig.address);
    // The config's own string when it is the key already: every index and sample of the rig shares it.
    const address = normalizeAddress(rig.address);
    return {
      name: rig.name ?? null,
      address,
      target: {
        host,
        port,
        family: rig.family,
        username: rig.username,
        password: rig.password,
        connectTimeoutMs: config.poll.connect_timeout_ms,
        commandTimeoutMs: config.poll.command_timeout_ms,
        maxReplyBytes: config.poll.max_reply_bytes,
      },
    };
  });
}

/**
 * Group commit: samples are appended to the journal in groups — one transaction, and with
 * `storage.journal_fsync: always` one fsync, per group — when APPEND_GROUP samples are waiting or the oldest has
 * waited APPEND_WAIT_MS. Each commit also wakes the sinks, whose acknowledgements are commits of their own, so
 * the window bounds the commits (and fsyncs, each one blocking the loop) per second: at most about
 * 1000 / APPEND_WAIT_MS + rate / APPEND_GROUP, whatever the fleet size. A sample reaches the journal, the live
 * fleet state and the sinks at most APPEND_WAIT_MS after its poll. docs/scaling.md has the measured costs.
 */
const APPEND_GROUP = 1024;
const APPEND_WAIT_MS = 250;

export async function startCollector(
  config: Config,
  targets: RigTarget[],
  deps: CollectorDeps,
): Promise<CollectorRuntime> {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  const dir = config.storage.dir;
  try {
    // The journal and the store hold pool worker names (identifying data): owner-only, dir 0700, files 0600.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch {
    // Journal.open reports the problem with a named error.
  }
  // One owner per dir: a second collector here would mix its samples into this journal and store.
  let lock: DirLock;
  try {
    lock = deps.dirLock ?? lockDir(dir, now);
  } catch (err) {
    // A dir that cannot even hold a lock file gets the journal's own, more specific, error.
    if (!StorageErrors.lock.is(err)) throw err;
    await Journal.open(dir, { fsync: config.storage.journal_fsync, maxBytes: 1, log, now }).close();
    throw err;
  }
  const storeWrites =
    config.storage.store_writes === 'auto' ? (deps.storeWrites ?? 'inline') : config.storage.store_writes;
  let journal: Journal;
  try {
    journal = Journal.open(dir, {
      // The store's writer thread checkpoints the journal too: one thread fewer.
      checkpointedElsewhere: storeWrites === 'thread',
      fsync: config.storage.journal_fsync,
      maxBytes: Math.floor(config.storage.journal_max_mb * 1024 * 1024),
      diskLowBytes: Math.floor((config.storage.disk_low_mb ?? 256) * 1024 * 1024),
      log,
      now,
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  let store: EmbeddedStore;
  try {
    store = EmbeddedStore.open(dir, {
      rawRetentionHours: config.storage.raw_retention_hours,
      rollupRetentionDays: config.storage.rollup_retention_days,
      maxBytes: Math.floor(config.storage.store_max_mb * 1024 * 1024),
      intervalMs: config.poll.interval_ms,
      backoffMaxMs: config.poll.backoff_max_ms,
      log,
      now,
      writer: storeWrites,
      ...(storeWrites === 'thread' ? { checkpointFiles: [journal.file] } : {}),
    });
  } catch (err) {
    await journal.close();
    lock.release();
    throw err;
  }
  privateFiles(dir);
  const identity = new IdentityMap(store.db, store.bindingWriter());
  // Alerts name rigs the way the config does (name and location), not by MAC or address.
  const rigNames = rigNamesFromConfig(config);
  const alerts = new AlertEngine(config.alerts, { now, describe: (s) => rigNames(s.address) });
  const sinkDeps = { store, log, now, ...(config.alerts.enabled ? { alerts } : {}) };
  const sinks = [...sinksFromConfig(config, sinkDeps), ...(deps.extraSinks ?? [])];
  const names = new Set(sinks.map((s) => s.name));
  for (const old of journal.sinks()) {
    if (!names.has(old)) {
      log.info({ sink: old }, 'sink no longer configured: the journal stops keeping samples for it');
      journal.unregister(old);
    }
  }
  const retry = config.sinks.retry;
  const fanout = new Fanout(journal, sinks, {
    log,
    now,
    ...(retry ? { retryMinMs: retry.min_ms, retryMaxMs: retry.max_ms, probeEveryMs: retry.probe_ms } : {}),
  });
  const started = now();

  const listeners = new Set<(s: Sample) => void>();
  let queue: Sample[] = [];
  let queueTimer: NodeJS.Timeout | null = null;
  const drain = () => {
    if (queueTimer) clearTimeout(queueTimer);
    queueTimer = null;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      journal.append(batch);
    } catch (err) {
      // Live state still updates; the samples are lost for the sinks, and the log says so.
      log.error(
        { code: errorCode(err), err: errorMessage(err), samples: batch.length },
        'samples could not be journalled',
      );
    }
    for (const s of batch) fleet.update(s);
    fanout.kick();
    for (const s of batch) {
      try {
        alerts.observe(s);
      } catch (err) {
        log.warn({ err: errorMessage(err), rig_id: s.rig_id }, 'alert engine failed on a sample');
      }
    }
    for (const s of batch) {
      for (const fn of listeners) {
        try {
          fn(s);
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'sample listener failed');
        }
      }
    }
  };
  const enqueue = (s: Sample) => {
    queue.push(s);
    if (queue.length >= APPEND_GROUP) drain();
    else if (!queueTimer) queueTimer = setTimeout(drain, APPEND_WAIT_MS);
  };

  // Slots not polled: counted by the scheduler, recorded per rig and hour in the store (one transaction a second).
  let skips: Array<{ rig_id: string; at_ms: number; reason: SkipReason }> = [];
  let skipTimer: NodeJS.Timeout | null = null;
  const flushSkips = () => {
    if (skipTimer) clearTimeout(skipTimer);
    skipTimer = null;
    if (skips.length === 0) return;
    const batch = skips;
    skips = [];
    try {
      store.recordSkips(batch);
    } catch (err) {
      log.error({ err: errorMessage(err), skips: batch.length }, 'skipped polls could not be recorded');
    }
  };

  const pollOne = (t: RigTarget, signal: AbortSignal) =>
    pollRig(t, deps.driverFor(t.target.family), {
      deadlineMs: config.poll.poll_deadline_ms,
      now,
      site: config.site.name,
      signal,
      identity,
      ...(deps.meter ? { meter: deps.meter } : {}),
      ...(deps.estimatePowerW ? { estimatePowerW: deps.estimatePowerW } : {}),
    });
  const scheduler: Scheduler = new Scheduler(targets, pollOne, (s) => enqueue(s), {
    intervalMs: config.poll.interval_ms,
    concurrency: config.poll.concurrency,
    backoffMaxMs: config.poll.backoff_max_ms,
    now,
    log,
    onSkip: (t, reason, dueMs) => {
      skips.push({ rig_id: fleet.get(t.address)?.rig_id ?? t.name ?? t.address, at_ms: dueMs, reason });
      if (!skipTimer) skipTimer = setTimeout(flushSkips, 1000);
    },
  });
  const fleet = new Fleet(targets, { nextPoll: (t) => scheduler.nextPollMs(t) });

  const health: HealthView = {
    started_ms: started,
    sinks: () => fanout.status(),
    polling: () => {
      const r = scheduler.lastRound();
      return {
        rigs: scheduler.size(),
        up: fleet.upCount(),
        last_sweep_ms: r?.started_ms ?? null,
        last_sweep_duration_ms: r?.duration_ms ?? null,
        polls: scheduler.stats(),
      };
    },
  };

  fanout.start();
  if (deps.autoStart !== false) scheduler.start();
  log.info(
    { rigs: targets.length, dir, sinks: [...names], interval_ms: config.poll.interval_ms },
    'collector started',
  );

  let stopping: Promise<void> | null = null;
  return {
    fleet,
    history: store,
    health,
    journal,
    fanout,
    store,
    alerts,
    sinks,
    onSample(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    start() {
      if (!stopping) scheduler.start();
    },
    async sweepNow() {
      const r = await scheduler.sweep();
      drain();
      return r;
    },
    async pollNow(address) {
      const t = scheduler.targetAt(address);
      if (!t || stopping) return null;
      const sample = await pollOne(t, scheduler.signal);
      enqueue(sample);
      drain();
      return sample;
    },
    lastRound: () => scheduler.lastRound(),
    addTargets(more) {
      const added = scheduler.add(more);
      fleet.add(added);
      if (added.length) log.info({ rigs: added.map((t) => t.address) }, 'polling rigs found by a rescan');
      return added;
    },
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        drain();
        flushSkips();
        const flushed = await fanout.flush(2000);
        if (!flushed)
          log.warn(
            { sinks: fanout.status() },
            'stopping with samples not yet delivered: they stay in the journal',
          );
        await fanout.stop();
        identity.flush();
        await store.close();
        await journal.close();
        lock.release();
        log.info({}, 'collector stopped');
      })();
      return stopping;
    },
  };
}

/** Owner-only files in the storage dir (SQLite gives its -wal/-shm files the database file's mode). */
function privateFiles(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile()) chmodSync(join(dir, e.name), 0o600);
    }
  } catch {
    // A file that vanished meanwhile (a checkpointed WAL) needs no mode.
  }
}

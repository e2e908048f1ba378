/**
 * The embedded store: zero-config history in SQLite (`<storage.dir>/store.db`, WAL). A `Sink` for the fan-out
 * and the `HistoryStore` the API reads.
 *
 * - `readings`: raw samples, kept `raw_retention_hours` and within `storage.store_max_mb`. Typed numeric columns
 *   (rig as an integer from `rigs`, state and power source as small integers); the rest of the sample (identity,
 *   boards, fans, pools…) is split into its *shape* — the JSON with every number zeroed, stored once per distinct
 *   shape in `details` — and the row's numbers in order (`nums`, a JSON array). A rig's shape changes only when
 *   its identity, pools or board layout do, so a sample costs its typed columns plus its numbers (see
 *   docs/scaling.md for measured bytes per sample). The `samples` view shows them as before (rig_id, state…).
 *   A sample's identity is (rig, at_ms) — one poll of one rig — so replaying a batch (the journal re-sends
 *   from the last acknowledged seq after a crash) inserts nothing twice. We do not key on the journal seq alone:
 *   a journal moved aside after corruption starts again at seq 1 and must not collide with stored history.
 * - Retention: readings are deleted oldest first (by insertion order, which is time order but for replays) in
 *   steps sized to take about `PRUNE_STEP_TARGET_MS`, yielding to the event loop between steps, until they are
 *   within the age and the size bound; the freed pages go back to the file system with
 *   `PRAGMA incremental_vacuum` (the file is created with `auto_vacuum = INCREMENTAL`; an older store file is
 *   migrated once at open, which rewrites it).
 * - `rollups`: hourly per-rig aggregates kept `rollup_retention_days`, updated as samples arrive (only for newly
 *   inserted samples, so replays do not double count).
 * - `rig_places`: where (the polled address) each rig id was polled, over time: a row per id and address stay
 *   (`first_ms`, `last_ms`), written when the address changes and otherwise at most once per rig and hour (the
 *   first sample of a new hour moves `last_ms`, so the true last poll there is within the hour after it).
 *   Kept as long as the rollups. Economics by rack read it: rollups of an id that is no longer live (hardware
 *   swapped at its address) still belong to the rack of the place they were polled at.
 *
 * Time integration (energy, seconds mining/curtailed/offline): the state and power seen at a poll hold until the
 * next poll of that rig, **if** the next poll comes within the gap cap — 2 × poll interval after an answered poll,
 * 2 × (backoff max + interval) after a failed one (the scheduler polls dead rigs less often on purpose). A longer
 * gap (collector down, rig removed) is not integrated: a gap stays a gap.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../lib/errors.js';
import { type Logger, silentLogger } from '../../lib/log.js';
import { type PowerSource, RIG_STATES, type Sample } from '../../protocols/sample.js';
import { StoreErrors } from '../errors.js';
import {
  addRawPolls,
  bucketPoints,
  HASHING,
  integrate,
  lookbackMs,
  newBuckets,
  RANK_SOURCE,
  SOURCE_RANK,
} from '../history-buckets.js';
import type { Binding } from '../identity.js';
import type { HistoryPoint, HistoryQuery, HistoryStore } from '../views.js';
import { Checkpointer } from './checkpointer.js';
import type { JournalEntry, Sink } from './sink.js';
import { StoreWriterThread } from './store-writer.js';

export interface EmbeddedStoreOptions {
  rawRetentionHours: number;
  rollupRetentionDays: number;
  /** Poll interval: polls expected per hour and the gap cap. */
  intervalMs: number;
  /** Scheduler backoff ceiling: the gap cap after a failed poll. */
  backoffMaxMs: number;
  log?: Logger;
  now?: () => number;
  /** How often retention pruning runs (default 10 min). */
  pruneEveryMs?: number;
  /** Bound on the store file in bytes (0 or absent: by age only). Hourly rollups are not pruned by size. */
  maxBytes?: number;
  /**
   * `thread`: writes (samples, skips, identity bindings, pruning) run in a worker thread with its own connection
   * (store-writer.ts), which uses the real clock; this instance only reads. `inline` (default): here.
   */
  writer?: 'inline' | 'thread';
  /** The file was already checked and migrated by another connection (the writer thread's own open). */
  verified?: boolean;
  /**
   * Let SQLite checkpoint inside commits (its auto-checkpoint) instead of in a checkpoint worker: for the writer
   * thread, where a checkpoint's fsync delays only the thread's own next write, and a worker would cost memory.
   */
  checkpointInline?: boolean;
  /**
   * With `writer: 'thread'`: other WAL databases of the process (the journal) whose checkpoints the writer thread
   * runs every second on connections of its own, so the process needs no checkpoint worker.
   */
  checkpointFiles?: readonly string[];
}

export interface PruneStats {
  /** Prune passes run and steps taken (each step one short transaction). */
  passes: number;
  steps: number;
  /** Longest single step (delete or vacuum), wall ms; on a loaded machine this includes waiting for a core. */
  max_step_ms: number;
  /** Longest single step in CPU ms (process CPU over the step: the work the step itself does). */
  max_step_cpu_ms: number;
  raw_deleted: number;
  rollups_deleted: number;
  pages_vacuumed: number;
}

export interface RollupRow {
  rig_id: string;
  hour_ms: number;
  polls: number;
  polls_ok: number;
  polls_expected: number;
  /** Mean over polls where the rig was hashing (mining, ramping, curtailed). */
  hashrate_hs: number | null;
  power_w: number | null;
  power_source: PowerSource | null;
  energy_wh: number | null;
  temp_chip_max_c: number | null;
  mining_s: number;
  curtailed_s: number;
  offline_s: number;
  /** Seconds of the hour covered by integrated intervals (the rest is gaps). */
  covered_s: number;
}

const HOUR = 3_600_000;
/** Column order of the rollup reads (`rollups()` maps them by index). */
const ROLLUP_COLUMNS = [
  'rig_id',
  'hour_ms',
  'polls',
  'polls_ok',
  'polls_expected',
  'hashrate_sum',
  'hashrate_n',
  'power_sum',
  'power_n',
  'source_rank',
  'energy_wh',
  'energy_s',
  'temp_chip_max_c',
  'mining_s',
  'curtailed_s',
  'offline_s',
  'covered_s',
] as const;

const STATE_CASE = `CASE r.state ${RIG_STATES.map((st, i) => `WHEN ${i} THEN '${st}'`).join(' ')} END`;
const SOURCE_CASE = `CASE r.power_source ${RANK_SOURCE.map((src, i) => (src ? `WHEN ${i} THEN '${src}'` : '')).join(' ')} END`;
const STATE_INDEX = new Map<string, number>(RIG_STATES.map((st, i) => [st, i]));

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rigs (id INTEGER PRIMARY KEY, rig_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS details (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, shape TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
  id INTEGER PRIMARY KEY,
  rig INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  state INTEGER NOT NULL,
  hashrate_hs REAL,
  power_w REAL,
  power_source INTEGER,
  temp_chip_max_c REAL,
  temp_board_max_c REAL,
  error_code TEXT,
  shape INTEGER,
  nums TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS readings_rig_at ON readings (rig, at_ms);
CREATE TABLE IF NOT EXISTS rollups (
  rig_id TEXT NOT NULL,
  hour_ms INTEGER NOT NULL,
  polls INTEGER NOT NULL DEFAULT 0,
  polls_ok INTEGER NOT NULL DEFAULT 0,
  polls_expected REAL NOT NULL DEFAULT 0,
  hashrate_sum REAL NOT NULL DEFAULT 0,
  hashrate_n INTEGER NOT NULL DEFAULT 0,
  power_sum REAL NOT NULL DEFAULT 0,
  power_n INTEGER NOT NULL DEFAULT 0,
  source_rank INTEGER NOT NULL DEFAULT 0,
  energy_wh REAL NOT NULL DEFAULT 0,
  energy_s REAL NOT NULL DEFAULT 0,
  temp_chip_max_c REAL,
  mining_s REAL NOT NULL DEFAULT 0,
  curtailed_s REAL NOT NULL DEFAULT 0,
  offline_s REAL NOT NULL DEFAULT 0,
  covered_s REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (rig_id, hour_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rig_last (
  rig_id TEXT PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  state TEXT NOT NULL,
  power_w REAL,
  first_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS poll_skips (
  rig_id TEXT NOT NULL,
  hour_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  n INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (rig_id, hour_ms, reason)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rig_places (
  rig_id TEXT NOT NULL,
  address TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  PRIMARY KEY (rig_id, first_ms)
) WITHOUT ROWID;
`;

const SAMPLES_VIEW = `
CREATE VIEW IF NOT EXISTS samples AS
SELECT g.rig_id AS rig_id, r.at_ms AS at_ms, r.seq AS seq, r.ok AS ok, ${STATE_CASE} AS state,
  r.hashrate_hs AS hashrate_hs, r.power_w AS power_w, ${SOURCE_CASE} AS power_source,
  r.temp_chip_max_c AS temp_chip_max_c, r.temp_board_max_c AS temp_board_max_c, r.error_code AS error_code
FROM readings r JOIN rigs g ON g.id = r.rig;
`;

/** Aim of one prune step; the step size adapts to it, so a step stays well under the 50 ms loop bound. */
const PRUNE_STEP_TARGET_MS = 10;
const VACUUM_STEP_PAGES = 512;
/** Size pruning starts past this share of `maxBytes` and goes down to PRUNE_LOW. */
const PRUNE_HIGH = 0.9;
const PRUNE_LOW = 0.8;

/** The fields of a sample the store keeps: `ingest` reads nothing else (the compiler holds it to that). */
const STORED_FIELDS = [
  'rig_id',
  'at_ms',
  'address',
  'state',
  'hashrate_hs',
  'hashrate_avg_hs',
  'hashrate_nominal_hs',
  'power_w',
  'power_source',
  'power_miner_w',
  'energy_wh',
  'temp_chip_max_c',
  'temp_board_max_c',
  'uptime_s',
  'identity',
  'boards',
  'fans',
  'pools',
  'support',
  'repairs',
  'notes',
  'poll',
] as const satisfies readonly (keyof Sample)[];

export type StoredEntry = { seq: number; sample: Pick<Sample, (typeof STORED_FIELDS)[number]> };

/**
 * What is posted to the writer thread: the stored fields only (a partial reading's raw reply, kept for the live
 * view, was half the bytes the thread had to copy and decode).
 */
function storedEntry(e: JournalEntry): StoredEntry {
  const s = e.sample;
  const out = {} as Record<string, unknown>;
  for (const k of STORED_FIELDS) out[k] = s[k];
  return { seq: e.seq, sample: out as StoredEntry['sample'] };
}

/** The slice of a sample the integration needs. */
interface Point {
  at_ms: number;
  ok: boolean;
  state: string;
  power_w: number | null;
}

export class EmbeddedStore implements Sink, HistoryStore {
  readonly name = 'embedded';
  /**
   * One commit a second at most: at 10,000 rigs each sample dirties a few pages scattered over the readings
   * index, the hourly rollups and rig_last, and SQLite writes every dirtied page to the WAL at each commit, so
   * four commits a second wrote ~2.7× the pages one does. History and rollups lag live state by up to this.
   */
  readonly lingerMs = 1000;
  /** A write runs on the main thread: 200 samples keep one under ~30 ms on a busy 2-core box. */
  readonly maxBatch = 200;
  readonly file: string;
  readonly db: Database.Database;
  private readonly opts: EmbeddedStoreOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly st: Record<string, Database.Statement>;
  /** Rig id → integer key in `rigs`. */
  private readonly rigKeys = new Map<string, number>();
  /** Per rig: its `rig_last` row and the newest hour whose rollup row exists (both written in the same transactions). */
  private readonly lastOf = new Map<string, LastPoint>();
  private readonly hourOf = new Map<string, number>();
  /** Per rig: hash and id of the detail shape of its last sample, to skip the lookup when unchanged. */
  private readonly lastShape = new Map<number, { hash: string; id: number }>();
  /** Per rig: its latest `rig_places` row as written (null: none yet), to write only on a change or a new hour. */
  private readonly placeOf = new Map<string, Place | null>();
  private pruning: Promise<void> | null = null;
  private checkpointer: Checkpointer | null = null;
  /** Set when writes run on the writer thread (`writer: 'thread'`). */
  private readonly thread: StoreWriterThread | null = null;
  /** Rows per delete step; adapted to PRUNE_STEP_TARGET_MS. */
  private stepRows = 2000;
  readonly pruneStats: PruneStats = {
    passes: 0,
    steps: 0,
    max_step_ms: 0,
    max_step_cpu_ms: 0,
    raw_deleted: 0,
    rollups_deleted: 0,
    pages_vacuumed: 0,
  };

  private constructor(file: string, db: Database.Database, opts: EmbeddedStoreOptions) {
    this.file = file;
    this.db = db;
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    if (opts.writer === 'thread') {
      const { log: _log, now: _now, writer: _writer, verified: _verified, ...threadOpts } = opts;
      this.thread = new StoreWriterThread(dirname(file), threadOpts, this.log, (prune) =>
        Object.assign(this.pruneStats, prune),
      );
    }
    this.st = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO readings (rig, at_ms, seq, ok, state, hashrate_hs, power_w, power_source,
           temp_chip_max_c, temp_board_max_c, error_code, shape, nums) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      ),
      rigKey: db.prepare('SELECT id FROM rigs WHERE rig_id = ?'),
      addRig: db.prepare('INSERT INTO rigs (rig_id) VALUES (?)'),
      shapeId: db.prepare('SELECT id FROM details WHERE hash = ?'),
      addShape: db.prepare('INSERT INTO details (hash, shape) VALUES (?, ?)'),
      recentDetails: db.prepare(
        'SELECT d.shape AS shape, r.nums AS nums FROM readings r JOIN details d ON d.id = r.shape WHERE r.rig = ? AND r.at_ms < ? ORDER BY r.at_ms DESC LIMIT 100',
      ),
      detailOf: db.prepare(
        'SELECT d.shape AS shape, r.nums AS nums FROM readings r JOIN details d ON d.id = r.shape WHERE r.rig = ? AND r.at_ms = ?',
      ),
      skip: db.prepare(
        `INSERT INTO poll_skips (rig_id, hour_ms, reason, n) VALUES (?,?,?,1)
         ON CONFLICT(rig_id, hour_ms, reason) DO UPDATE SET n = n + 1`,
      ),
      skipsOf: db.prepare(
        'SELECT reason, SUM(n) AS n FROM poll_skips WHERE rig_id = ? AND hour_ms >= ? AND hour_ms < ? GROUP BY reason',
      ),
      idSpan: db.prepare('SELECT MIN(id) AS lo, MAX(id) AS hi FROM readings'),
      oldest: db.prepare('SELECT id, at_ms FROM readings ORDER BY id LIMIT 1 OFFSET ?'),
      deleteBefore: db.prepare('DELETE FROM readings WHERE id < ?'),
      deleteOldBefore: db.prepare('DELETE FROM readings WHERE id < ? AND at_ms < ?'),
      deleteAllOld: db.prepare('DELETE FROM readings WHERE at_ms < ?'),
      last: db.prepare('SELECT at_ms, ok, state, power_w, first_ms FROM rig_last WHERE rig_id = ?'),
      setLast: db.prepare(
        `INSERT INTO rig_last (rig_id, at_ms, ok, state, power_w, first_ms) VALUES (?,?,?,?,?,?)
         ON CONFLICT(rig_id) DO UPDATE SET at_ms=excluded.at_ms, ok=excluded.ok, state=excluded.state,
           power_w=excluded.power_w`,
      ),
      ensureHour: db.prepare(
        'INSERT OR IGNORE INTO rollups (rig_id, hour_ms, polls_expected) VALUES (?, ?, ?)',
      ),
      poll: db.prepare(
        `UPDATE rollups SET polls = polls + 1, polls_ok = polls_ok + ?, hashrate_sum = hashrate_sum + ?,
           hashrate_n = hashrate_n + ?, power_sum = power_sum + ?, power_n = power_n + ?,
           source_rank = MAX(source_rank, ?),
           temp_chip_max_c = CASE WHEN ? IS NULL THEN temp_chip_max_c
             WHEN temp_chip_max_c IS NULL OR ? > temp_chip_max_c THEN ? ELSE temp_chip_max_c END
         WHERE rig_id = ? AND hour_ms = ?`,
      ),
      span: db.prepare(
        `UPDATE rollups SET energy_wh = energy_wh + ?, energy_s = energy_s + ?, mining_s = mining_s + ?,
           curtailed_s = curtailed_s + ?, offline_s = offline_s + ?, covered_s = covered_s + ?
         WHERE rig_id = ? AND hour_ms = ?`,
      ),
      rawRange: db.prepare(
        `SELECT r.at_ms AS at_ms, r.ok AS ok, ${STATE_CASE} AS state, r.hashrate_hs AS hashrate_hs,
           r.power_w AS power_w, ${SOURCE_CASE} AS power_source, r.temp_chip_max_c AS temp_chip_max_c
         FROM readings r WHERE r.rig = (SELECT id FROM rigs WHERE rig_id = ?) AND r.at_ms >= ? AND r.at_ms < ?
         ORDER BY r.at_ms`,
      ),
      // Rows as arrays (columns in ROLLUP_COLUMNS order): a month of hours for a thousand rigs is 720,000 rows,
      // and arrays cost better-sqlite3 less than half the time of keyed objects.
      rollRange: db
        .prepare(
          `SELECT ${ROLLUP_COLUMNS.join(', ')} FROM rollups WHERE rig_id = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms`,
        )
        .raw(true),
      rigIds: db.prepare('SELECT rig_id FROM rig_last ORDER BY rig_id'),
      pruneRoll: db.prepare('DELETE FROM rollups WHERE hour_ms < ?'),
      prunePlaces: db.prepare('DELETE FROM rig_places WHERE last_ms < ?'),
      lastPlace: db.prepare(
        'SELECT address, first_ms, last_ms FROM rig_places WHERE rig_id = ? ORDER BY first_ms DESC LIMIT 1',
      ),
      putPlace: db.prepare(
        `INSERT INTO rig_places (rig_id, address, first_ms, last_ms) VALUES (?,?,?,?)
         ON CONFLICT(rig_id, first_ms) DO UPDATE SET address = excluded.address,
           last_ms = MAX(last_ms, excluded.last_ms)`,
      ),
      placeIn: db.prepare(
        'SELECT address FROM rig_places WHERE rig_id = ? AND first_ms < ? AND last_ms > ? ORDER BY first_ms DESC LIMIT 1',
      ),
      placeBefore: db.prepare(
        'SELECT address FROM rig_places WHERE rig_id = ? AND first_ms < ? ORDER BY first_ms DESC LIMIT 1',
      ),
    };
  }

  static open(dir: string, opts: EmbeddedStoreOptions): EmbeddedStore {
    const file = join(dir, 'store.db');
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw StoreErrors.open.with({ cause: err }, file, errorMessage(err));
    }
    try {
      const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
        n: number;
      };
      // Freed pages go back to the file system in steps (incremental_vacuum); set before the first table.
      if (tables.n === 0) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      // The journal is the durable copy: the store may lose its last commits on power loss and get them replayed.
      db.pragma('synchronous = NORMAL');
      if (!opts.verified) {
        const check = db.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new Error(String(check));
        const migrated = migrateV1(db, opts.log ?? silentLogger);
        db.exec(SCHEMA);
        if (migrated) copyV1(db, opts.log ?? silentLogger);
        db.exec(SAMPLES_VIEW);
      }
      return new EmbeddedStore(file, db, opts);
    } catch (err) {
      db.close();
      if (/^SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM|BUSY)/.test(String((err as { code?: unknown }).code))) {
        throw StoreErrors.open.with({ cause: err }, file, errorMessage(err));
      }
      throw StoreErrors.corrupt.with({ cause: err }, file, errorMessage(err));
    }
  }

  async open(): Promise<void> {
    if (this.closed) throw StoreErrors.open(this.file, 'the store was closed');
    if (this.thread) {
      // This connection only reads; the writer thread checkpoints, prunes and writes.
      try {
        await this.thread.start();
      } catch (err) {
        throw StoreErrors.open.with({ cause: err }, this.file, `writer thread: ${errorMessage(err)}`);
      }
      return;
    }
    if (this.timer) return;
    // Checkpoints (with their fsync) run in a worker; the loop only ever appends to the WAL.
    if (!this.opts.checkpointInline)
      try {
        this.checkpointer = new Checkpointer(this.file, 1000);
        this.db.pragma('wal_autocheckpoint = 0');
      } catch (err) {
        this.log.warn(
          { err: errorMessage(err) },
          'checkpoint worker did not start: SQLite checkpoints inline',
        );
      }
    void this.pruneInSteps();
    this.timer = setInterval(() => void this.pruneInSteps(), this.opts.pruneEveryMs ?? 600_000);
    this.timer.unref();
  }

  /** Bytes the store file uses (pages in use; free pages are returned by the incremental vacuum). */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Bytes of the store file on disk (pages in use plus free pages not yet returned). */
  fileBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return (this.db.pragma('page_count', { simple: true }) as number) * pageSize;
  }

  /**
   * One prune pass in small steps: readings past their age, then the oldest readings while the store is over
   * PRUNE_HIGH of its size bound (down to PRUNE_LOW; a write past PRUNE_HIGH also starts a pass), then rollups past their age, then free pages back to the file
   * system. Each step is one short transaction; the loop runs other work between steps. Resolves when done.
   */
  pruneInSteps(nowMs = this.now()): Promise<void> {
    if (this.thread) return this.thread.prune(nowMs);
    this.pruning ??= (async () => {
      // Yield first: `finally` must clear `pruning` after it was assigned, even for a pass with nothing to do.
      await null;
      try {
        this.pruneStats.passes += 1;
        const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
        const cutoff = nowMs - this.opts.rawRetentionHours * HOUR;
        while (!this.closed && this.pruneStepByAge(cutoff) > 0) await yieldLoop();
        const max = this.opts.maxBytes ?? 0;
        if (max > 0 && this.usedBytes() > max * PRUNE_HIGH) {
          while (
            !this.closed &&
            this.usedBytes() > max * PRUNE_LOW &&
            this.pruneStepOldest(this.usedBytes() - max * PRUNE_LOW) > 0
          )
            await yieldLoop();
        }
        if (this.closed) return;
        this.timed(() => {
          const cutoff = nowMs - this.opts.rollupRetentionDays * 24 * HOUR;
          this.pruneStats.rollups_deleted += this.st.pruneRoll!.run(cutoff).changes;
          this.prunePlaces(cutoff);
        });
        while (!this.closed && this.vacuumStep() > 0) await yieldLoop();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'embedded store pruning failed');
      } finally {
        this.pruning = null;
      }
    })();
    return this.pruning;
  }

  /** Delete raw samples and rollups past their retention, now (all steps at once; tests and tools). */
  prune(nowMs = this.now()): { raw: number; rollups: number } {
    if (this.closed) return { raw: 0, rollups: 0 };
    try {
      const raw = this.st.deleteAllOld!.run(nowMs - this.opts.rawRetentionHours * HOUR).changes;
      const cutoff = nowMs - this.opts.rollupRetentionDays * 24 * HOUR;
      const rollups = this.st.pruneRoll!.run(cutoff).changes;
      this.prunePlaces(cutoff);
      if (raw || rollups) this.log.debug({ raw, rollups }, 'embedded store pruned');
      return { raw, rollups };
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'embedded store pruning failed');
      return { raw: 0, rollups: 0 };
    }
  }

  /** Places whose last poll was before the rollups' cutoff (`last_ms` is at most an hour behind the true last). */
  private prunePlaces(rollupCutoffMs: number): void {
    if (this.st.prunePlaces!.run(rollupCutoffMs - HOUR).changes > 0) this.placeOf.clear();
  }

  private timed<T>(fn: () => T): T {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      return fn();
    } finally {
      const c = process.cpuUsage(c0);
      const cpuMs = (c.user + c.system) / 1000;
      if (cpuMs > this.pruneStats.max_step_cpu_ms) this.pruneStats.max_step_cpu_ms = cpuMs;
      const ms = performance.now() - t0;
      this.pruneStats.steps += 1;
      if (ms > this.pruneStats.max_step_ms) this.pruneStats.max_step_ms = ms;
    }
  }

  /** Adapt the rows per step to the time per row the last step took (steps that deleted little say nothing). */
  private adapt(ms: number, rows: number): void {
    if (rows < 100 || ms <= 0) return;
    const next = (PRUNE_STEP_TARGET_MS * rows) / ms;
    this.stepRows = Math.max(100, Math.min(20_000, Math.round(Math.min(next, this.stepRows * 2))));
  }

  /** Delete up to one step of the oldest readings older than `cutoff`; returns rows deleted. */
  private pruneStepByAge(cutoff: number): number {
    const t0 = performance.now();
    const n = this.timed(() => {
      const edge = this.st.oldest!.get(this.stepRows) as { id: number; at_ms: number } | undefined;
      if (!edge) return this.st.deleteOldBefore!.run(Number.MAX_SAFE_INTEGER, cutoff).changes;
      return this.st.deleteOldBefore!.run(edge.id, cutoff).changes;
    });
    this.adapt(performance.now() - t0, n);
    this.pruneStats.raw_deleted += n;
    return n;
  }

  /** Delete one step of the oldest readings whatever their age, no more than `excessBytes` worth. */
  private pruneStepOldest(excessBytes: number): number {
    const t0 = performance.now();
    const n = this.timed(() => {
      const span = this.st.idSpan!.get() as { lo: number | null; hi: number | null };
      if (span.lo === null || span.hi === null) return 0;
      const perRow = this.usedBytes() / (span.hi - span.lo + 1);
      const rows = Math.max(1, Math.min(this.stepRows, Math.ceil(excessBytes / perRow)));
      const edge = this.st.oldest!.get(rows) as { id: number } | undefined;
      return this.st.deleteBefore!.run(edge ? edge.id : Number.MAX_SAFE_INTEGER).changes;
    });
    this.adapt(performance.now() - t0, n);
    this.pruneStats.raw_deleted += n;
    // Free pages count as used until vacuumed: return them now so the size check sees the effect.
    while (this.vacuumStep() > 0) {}
    return n;
  }

  /** Return up to one step of free pages to the file system; returns pages freed. */
  private vacuumStep(): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free === 0) return 0;
    const pages = Math.min(free, VACUUM_STEP_PAGES);
    this.timed(() => this.db.pragma(`incremental_vacuum(${pages})`));
    this.pruneStats.pages_vacuumed += pages;
    return pages;
  }

  /** Count polls that did not happen, per rig, hour and reason (one transaction per call). */
  recordSkips(skips: ReadonlyArray<{ rig_id: string; at_ms: number; reason: string }>): void {
    if (this.closed || skips.length === 0) return;
    if (this.thread) {
      this.thread.post({ type: 'skips', skips });
      return;
    }
    this.db.transaction(() => {
      for (const k of skips) this.st.skip!.run(k.rig_id, Math.floor(k.at_ms / HOUR) * HOUR, k.reason);
    })();
  }

  /** Skipped polls of one rig by reason over [fromMs, toMs) (whole hours). */
  skipsOf(rigId: string, fromMs: number, toMs: number): Record<string, number> {
    const rows = this.st.skipsOf!.all(rigId, Math.floor(fromMs / HOUR) * HOUR, toMs) as {
      reason: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  /** The stored detail of one sample (identity, boards, fans, pools…), null when not stored. */
  detail(rigId: string, atMs: number): Record<string, unknown> | null {
    const key = this.rigKeys.get(rigId) ?? (this.st.rigKey!.get(rigId) as { id: number } | undefined)?.id;
    if (key === undefined) return null;
    const row = this.st.detailOf!.get(key, atMs) as { shape: string; nums: string } | undefined;
    return row ? joinDetail(row.shape, row.nums) : null;
  }

  /**
   * The model a rig reported in its latest stored sample before `beforeMs` that names one (identity.model),
   * null when none of its stored samples does. Looks at the last 100 samples with a stored detail.
   */
  modelBefore(rigId: string, beforeMs: number): string | null {
    const key = this.rigKeys.get(rigId) ?? (this.st.rigKey!.get(rigId) as { id: number } | undefined)?.id;
    if (key === undefined) return null;
    const rows = this.st.recentDetails!.all(key, beforeMs) as { shape: string; nums: string }[];
    for (const row of rows) {
      const identity = joinDetail(row.shape, row.nums).identity as { model?: unknown } | undefined;
      if (typeof identity?.model === 'string' && identity.model !== '') return identity.model;
    }
    return null;
  }

  async write(batch: readonly JournalEntry[]): Promise<void> {
    try {
      if (this.thread) await this.thread.write(batch.map(storedEntry));
      else this.writeSync(batch);
    } catch (err) {
      throw StoreErrors.write.with({ cause: err }, errorMessage(err));
    }
    if (!this.thread) this.pruneIfNearFull();
  }

  /** Near the size bound: prune now (in steps, in the background) rather than at the next timer pass. */
  pruneIfNearFull(): void {
    const max = this.opts.maxBytes ?? 0;
    if (max > 0 && !this.pruning && this.usedBytes() > max * PRUNE_HIGH) void this.pruneInSteps();
  }

  /** Where identity bindings go when writes run on the writer thread; undefined when they are written here. */
  bindingWriter(): ((batch: Binding[]) => void) | undefined {
    const thread = this.thread;
    return thread ? (bindings) => thread.post({ type: 'bindings', bindings }) : undefined;
  }

  /** Insert a batch in one transaction; returns how many samples were new. */
  writeSync(batch: readonly StoredEntry[]): number {
    let added = 0;
    try {
      this.db.transaction(() => {
        for (const e of batch) if (this.ingest(e)) added += 1;
      })();
    } catch (err) {
      // Rolled back: what the caches say was written may not be.
      this.lastOf.clear();
      this.hourOf.clear();
      this.placeOf.clear();
      throw err;
    }
    return added;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.closed) return;
    this.closed = true;
    await this.thread?.close();
    await this.pruning;
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.db.close();
  }

  rigIds(): string[] {
    return (this.st.rigIds!.all() as { rig_id: string }[]).map((r) => r.rig_id);
  }

  rollups(rigId: string, fromMs: number, toMs: number): RollupRow[] {
    const rows = this.st.rollRange!.all(rigId, fromMs, toMs) as (number | string | null)[][];
    return rows.map((r) => {
      const n = (i: number) => Number(r[i] ?? 0);
      return {
        rig_id: String(r[0]),
        hour_ms: n(1),
        polls: n(2),
        polls_ok: n(3),
        polls_expected: Math.round(n(4) * 100) / 100,
        hashrate_hs: n(6) > 0 ? n(5) / n(6) : null,
        power_w: n(8) > 0 ? n(7) / n(8) : null,
        power_source: RANK_SOURCE[n(9)] ?? null,
        energy_wh: n(11) > 0 ? n(10) : null,
        temp_chip_max_c: r[12] === null ? null : Number(r[12]),
        mining_s: n(13),
        curtailed_s: n(14),
        offline_s: n(15),
        covered_s: n(16),
      };
    });
  }

  history(q: HistoryQuery): HistoryPoint[] {
    if (!Number.isFinite(q.fromMs) || !Number.isFinite(q.toMs) || q.toMs <= q.fromMs) {
      throw StoreErrors.badQuery('toMs must be after fromMs');
    }
    if (!Number.isFinite(q.stepS) || q.stepS < 1)
      throw StoreErrors.badQuery('stepS must be at least 1 second');
    const stepMs = q.stepS * 1000;
    const count = Math.ceil((q.toMs - q.fromMs) / stepMs);
    if (count > 20_000) throw StoreErrors.badQuery(`${count} buckets asked; at most 20000 (raise stepS)`);
    const acc = newBuckets(count);
    const bucketOf = (t: number) => Math.floor((t - q.fromMs) / stepMs);
    const rawCutoff = this.now() - this.opts.rawRetentionHours * HOUR;
    // Buckets that start at or after the raw cutoff are built from raw samples, older ones from rollups.
    const firstRaw = Math.max(0, Math.min(count, Math.ceil((rawCutoff - q.fromMs) / stepMs)));

    if (firstRaw > 0) {
      const end = q.fromMs + firstRaw * stepMs;
      for (const r of this.rollups(q.rigId, q.fromMs, end)) {
        const a = acc[bucketOf(r.hour_ms)];
        if (!a) continue;
        a.polls += r.polls;
        a.polls_ok += r.polls_ok;
        if (r.hashrate_hs !== null) {
          // Weight the hour's mean by its polls so multi-hour buckets average correctly.
          a.hs_sum += r.hashrate_hs * Math.max(1, r.polls_ok);
          a.hs_n += Math.max(1, r.polls_ok);
        }
        if (r.power_w !== null) {
          a.p_sum += r.power_w * Math.max(1, r.polls_ok);
          a.p_n += Math.max(1, r.polls_ok);
        }
        if (r.power_source) a.rank = Math.max(a.rank, SOURCE_RANK[r.power_source]);
        if (r.temp_chip_max_c !== null)
          a.temp = a.temp === null ? r.temp_chip_max_c : Math.max(a.temp, r.temp_chip_max_c);
        if (r.energy_wh !== null) a.energy = (a.energy ?? 0) + r.energy_wh;
        a.mining_s += r.mining_s;
      }
    }

    if (firstRaw < count) {
      const start = q.fromMs + firstRaw * stepMs;
      const caps = { intervalMs: this.opts.intervalMs, backoffMaxMs: this.opts.backoffMaxMs };
      const rows = this.st.rawRange!.all(q.rigId, start - lookbackMs(caps), q.toMs) as {
        at_ms: number;
        ok: number;
        state: string;
        hashrate_hs: number | null;
        power_w: number | null;
        power_source: PowerSource | null;
        temp_chip_max_c: number | null;
      }[];
      addRawPolls(
        acc,
        rows.map((r) => ({ ...r, ok: r.ok === 1 })),
        { fromMs: q.fromMs, stepMs, start },
        caps,
      );
    }

    return bucketPoints(acc, q.fromMs, stepMs);
  }

  private ingest(e: StoredEntry): boolean {
    const s = e.sample;
    if (typeof s?.rig_id !== 'string' || !Number.isFinite(s.at_ms)) {
      this.log.warn({ seq: e.seq }, 'embedded store: entry without rig_id/at_ms skipped');
      return false;
    }
    const ok = s.poll?.ok === true;
    const rig = this.rigKey(s.rig_id);
    const { shape, nums } = splitDetail({
      identity: s.identity,
      boards: s.boards,
      fans: s.fans,
      pools: s.pools,
      support: s.support,
      repairs: s.repairs,
      notes: s.notes,
      hashrate_avg_hs: s.hashrate_avg_hs,
      hashrate_nominal_hs: s.hashrate_nominal_hs,
      uptime_s: s.uptime_s,
      power_miner_w: s.power_miner_w,
      energy_wh: s.energy_wh,
      address: s.address,
      error_message: s.poll?.error_message ?? null,
      duration_ms: s.poll?.duration_ms ?? null,
    });
    const r = this.st.insert!.run(
      rig,
      s.at_ms,
      e.seq,
      ok ? 1 : 0,
      STATE_INDEX.get(s.state) ?? STATE_INDEX.get('error')!,
      s.hashrate_hs,
      s.power_w,
      s.power_source ? SOURCE_RANK[s.power_source] : null,
      s.temp_chip_max_c,
      s.temp_board_max_c,
      s.poll?.error_code ?? null,
      this.shapeId(rig, shape),
      nums,
    );
    if (r.changes === 0) return false; // replay: already stored and already rolled up
    if (typeof s.address === 'string' && s.address !== '') this.notePlace(s.rig_id, s.address, s.at_ms);

    const last = this.lastPoint(s.rig_id);
    const firstMs = last?.first_ms ?? s.at_ms;
    const hour = Math.floor(s.at_ms / HOUR) * HOUR;
    this.ensureHour(s.rig_id, hour, firstMs);
    const hashing = ok && s.hashrate_hs !== null && (HASHING.has(s.state) || s.hashrate_hs === 0);
    const power = ok && s.power_w !== null;
    this.st.poll!.run(
      ok ? 1 : 0,
      hashing ? s.hashrate_hs : 0,
      hashing ? 1 : 0,
      power ? s.power_w : 0,
      power ? 1 : 0,
      power && s.power_source ? SOURCE_RANK[s.power_source] : 0,
      ok ? s.temp_chip_max_c : null,
      ok ? s.temp_chip_max_c : null,
      ok ? s.temp_chip_max_c : null,
      s.rig_id,
      hour,
    );
    if (last) {
      const prev: Point = { at_ms: last.at_ms, ok: last.ok === 1, state: last.state, power_w: last.power_w };
      integrate(prev, { at_ms: s.at_ms }, this.opts, (from, to) => {
        let t = from;
        while (t < to) {
          const h = Math.floor(t / HOUR) * HOUR;
          const edge = Math.min(to, h + HOUR);
          const sec = (edge - t) / 1000;
          this.ensureHour(s.rig_id, h, firstMs);
          const hasPower = prev.ok && prev.power_w !== null;
          this.st.span!.run(
            hasPower ? (prev.power_w! * sec) / 3600 : 0,
            hasPower ? sec : 0,
            prev.ok && prev.state === 'mining' ? sec : 0,
            prev.ok && prev.state === 'curtailed' ? sec : 0,
            prev.ok ? 0 : sec,
            sec,
            s.rig_id,
            h,
          );
          t = edge;
        }
      });
    }
    // Only move the rig's last point forward (a late, older sample is stored but does not rewind it).
    if (!last || s.at_ms > last.at_ms) {
      const point = {
        at_ms: s.at_ms,
        ok: ok ? 1 : 0,
        state: s.state,
        power_w: ok ? s.power_w : null,
        first_ms: firstMs,
      };
      this.st.setLast!.run(s.rig_id, point.at_ms, point.ok, point.state, point.power_w, point.first_ms);
      this.lastOf.set(s.rig_id, point);
    }
    return true;
  }

  /**
   * Where a rig id was polled during [fromMs, toMs): the address of its latest place that overlaps the period,
   * else of its latest place before `toMs`; null when the store has none (a store from before `rig_places`).
   */
  placeIn(rigId: string, fromMs: number, toMs: number): string | null {
    // `last_ms` may be up to an hour behind the last poll at that place.
    const row = (this.st.placeIn!.get(rigId, toMs, fromMs - HOUR) ?? this.st.placeBefore!.get(rigId, toMs)) as
      | { address: string }
      | undefined;
    return row?.address ?? null;
  }

  /** Note where the rig was polled: a write when the address changes, else at most one per rig and hour. */
  private notePlace(rigId: string, address: string, atMs: number): void {
    let p = this.placeOf.get(rigId);
    if (p === undefined) {
      p = (this.st.lastPlace!.get(rigId) as Place | undefined) ?? null;
      this.placeOf.set(rigId, p);
    }
    if (p !== null && atMs < p.last_ms) return; // a late, older sample: the history only moves forward
    if (p === null || p.address !== address) {
      this.st.putPlace!.run(rigId, address, atMs, atMs);
      this.placeOf.set(rigId, { address, first_ms: atMs, last_ms: atMs });
    } else if (Math.floor(atMs / HOUR) !== Math.floor(p.last_ms / HOUR)) {
      this.st.putPlace!.run(rigId, address, p.first_ms, atMs);
      p.last_ms = atMs;
    }
  }

  private rigKey(rigId: string): number {
    let key = this.rigKeys.get(rigId);
    if (key !== undefined) return key;
    const row = this.st.rigKey!.get(rigId) as { id: number } | undefined;
    key = row ? row.id : Number(this.st.addRig!.run(rigId).lastInsertRowid);
    this.rigKeys.set(rigId, key);
    return key;
  }

  private shapeId(rig: number, shape: string): number {
    const hash = createHash('sha1').update(shape).digest('base64');
    const last = this.lastShape.get(rig);
    if (last && last.hash === hash) return last.id;
    const row = this.st.shapeId!.get(hash) as { id: number } | undefined;
    const id = row ? row.id : Number(this.st.addShape!.run(hash, shape).lastInsertRowid);
    this.lastShape.set(rig, { hash, id });
    return id;
  }

  private ensureHour(rigId: string, hour: number, firstMs: number): void {
    // Once per rig and hour, not per sample (the row exists until retention removes hours long past).
    if (this.hourOf.get(rigId) === hour) return;
    // Polls expected in this hour: from the rig's first sighting (or the hour start) to the hour's end.
    const from = Math.max(hour, Math.min(firstMs, hour + HOUR));
    this.st.ensureHour!.run(rigId, hour, (hour + HOUR - from) / this.opts.intervalMs);
    if (hour >= (this.hourOf.get(rigId) ?? Number.NEGATIVE_INFINITY)) this.hourOf.set(rigId, hour);
  }

  /** The rig's last point, read from `rig_last` once and then kept beside it (the store is its only writer). */
  private lastPoint(rigId: string): LastPoint | undefined {
    let last = this.lastOf.get(rigId);
    if (last === undefined) {
      last = this.st.last!.get(rigId) as LastPoint | undefined;
      if (last) this.lastOf.set(rigId, last);
    }
    return last;
  }
}

interface Place {
  address: string;
  first_ms: number;
  last_ms: number;
}

interface LastPoint {
  at_ms: number;
  ok: number;
  state: string;
  power_w: number | null;
  first_ms: number;
}

/**
 * Split a detail object into its shape (JSON with every number replaced by 0) and its numbers in document
 * order (a JSON array). `joinDetail` puts them back together.
 */
export function splitDetail(detail: unknown): { shape: string; nums: string } {
  const nums: number[] = [];
  const shape = JSON.stringify(detail, (_k, v) => {
    if (typeof v === 'number') {
      // JSON has no NaN/Infinity: JSON.stringify writes them as null, and so do we.
      if (!Number.isFinite(v)) return null;
      nums.push(v);
      return 0;
    }
    return v;
  });
  return { shape, nums: JSON.stringify(nums) };
}

export function joinDetail(shape: string, nums: string): Record<string, unknown> {
  const values = JSON.parse(nums) as number[];
  let i = 0;
  // JSON.parse's reviver visits values depth-first, in document order like JSON.stringify's replacer.
  const out = JSON.parse(shape, (_k, v) => (typeof v === 'number' ? (values[i++] ?? null) : v));
  return out as Record<string, unknown>;
}

/** A store file from before `readings`: its `samples` table is renamed aside, to be copied by `copyV1`. */
function migrateV1(db: Database.Database, log: Logger): boolean {
  const old = db.prepare("SELECT type FROM sqlite_master WHERE name = 'samples'").get() as
    | { type: string }
    | undefined;
  if (old?.type !== 'table') return false;
  log.info({}, 'embedded store: migrating raw samples to the compact layout (once)');
  db.exec('ALTER TABLE samples RENAME TO samples_v1;');
  return true;
}

/** Copy the old rows into `readings`, drop the old table, and rewrite the file with incremental vacuum on. */
function copyV1(db: Database.Database, log: Logger): void {
  const t0 = performance.now();
  const addRig = db.prepare('INSERT OR IGNORE INTO rigs (rig_id) VALUES (?)');
  const rigKey = db.prepare('SELECT id FROM rigs WHERE rig_id = ?');
  const shapeId = db.prepare('SELECT id FROM details WHERE hash = ?');
  const addShape = db.prepare('INSERT INTO details (hash, shape) VALUES (?, ?)');
  const insert = db.prepare(
    `INSERT OR IGNORE INTO readings (rig, at_ms, seq, ok, state, hashrate_hs, power_w, power_source,
       temp_chip_max_c, temp_board_max_c, error_code, shape, nums) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  );
  const keys = new Map<string, number>();
  const shapes = new Map<string, number>();
  let n = 0;
  // In time order (its at_ms index), a page at a time: readings keep insertion order ≈ time order for pruning.
  const page = db.prepare(
    'SELECT * FROM samples_v1 WHERE (at_ms, rig_id) > (?, ?) ORDER BY at_ms, rig_id LIMIT 5000',
  );
  db.transaction(() => {
    let after: [number, string] = [Number.MIN_SAFE_INTEGER, ''];
    for (;;) {
      const rows = page.all(after[0], after[1]) as Record<string, unknown>[];
      if (rows.length === 0) break;
      const lastRow = rows[rows.length - 1]!;
      after = [Number(lastRow.at_ms), String(lastRow.rig_id)];
      for (const row of rows) copyRow(row);
    }
    db.exec('DROP TABLE samples_v1');
  })();
  function copyRow(row: Record<string, unknown>): void {
    {
      const rigId = String(row.rig_id);
      let rig = keys.get(rigId);
      if (rig === undefined) {
        addRig.run(rigId);
        rig = (rigKey.get(rigId) as { id: number }).id;
        keys.set(rigId, rig);
      }
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(String(row.detail));
      } catch {
        parsed = null;
      }
      const { shape, nums } = splitDetail(parsed);
      const hash = createHash('sha1').update(shape).digest('base64');
      let sid = shapes.get(hash);
      if (sid === undefined) {
        sid =
          (shapeId.get(hash) as { id: number } | undefined)?.id ??
          Number(addShape.run(hash, shape).lastInsertRowid);
        shapes.set(hash, sid);
      }
      const src = row.power_source as PowerSource | null;
      insert.run(
        rig,
        row.at_ms,
        row.seq,
        row.ok,
        STATE_INDEX.get(String(row.state)) ?? STATE_INDEX.get('error')!,
        row.hashrate_hs,
        row.power_w,
        src ? SOURCE_RANK[src] : null,
        row.temp_chip_max_c,
        row.temp_board_max_c,
        row.error_code,
        sid,
        nums,
      );
      n += 1;
    }
  }
  // Switching an existing file to incremental auto-vacuum takes one full rewrite.
  if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
  }
  log.info({ samples: n, ms: Math.round(performance.now() - t0) }, 'embedded store migrated');
}

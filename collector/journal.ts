/**
 * Durable append-only journal of samples (SQLite in WAL mode, `<storage.dir>/journal.db`).
 *
 * Every sample is appended once; each sink reads from its own acknowledged offset, so a sink that is down
 * catches up later without the poll path ever waiting for it. Entries every registered sink has acknowledged
 * are trimmed. The journal is bounded by `maxBytes` (sample JSON bytes held): past a high-water mark it warns
 * (log + `pressure().will_drop`), and only when an append would exceed the bound does it drop the oldest
 * entries, counting them (`pressure().dropped_entries`). It never drops silently.
 *
 * Durability: every append is committed to the WAL before it returns, so it survives a crash of the process.
 * `fsync: 'always'` also fsyncs the WAL after every append, in libuv's thread pool rather than on the event loop
 * (an fsync took 4 ms typically and up to 75 ms on this disk; inside the commit it was most of the collector's
 * event-loop stalls at 10,000 rigs): an append survives power loss once that fsync is done, a few milliseconds
 * after it returns (`pressure().unsynced_appends` says how many wait). `'off'` leaves the WAL to the page cache
 * (it reaches the disk at the next checkpoint). Checkpoints run in a worker thread (sinks/checkpointer.ts), or in
 * the embedded store's writer thread when there is one (`checkpointedElsewhere`).
 *
 * Cost per sample (the journal is on the poll path of every sample): the last appended samples are also kept in
 * memory (`TAIL_ENTRIES`), so a sink that keeps up reads them back without a query or a JSON.parse; a sink that is
 * behind reads from SQLite. Acknowledgements are held in memory and written inside the next append (or trim,
 * or close) transaction rather than one commit (and one fsync) each: after a crash a sink may be sent again what it
 * acknowledged since the last append (at most one append window). Every sink is idempotent on replay (the
 * embedded store ignores a (rig, time) it holds; InfluxDB overwrites the same point; MQTT state is retained).
 */
import { close as closeFd, fsync, open, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../lib/errors.js';
import { type Logger, silentLogger } from '../lib/log.js';
import type { Sample } from '../protocols/sample.js';
import { JournalErrors } from './errors.js';
import { Checkpointer } from './sinks/checkpointer.js';
import type { JournalEntry } from './sinks/sink.js';

export { type Logger, silentLogger };

export interface JournalOptions {
  fsync: 'always' | 'off';
  /** Bound on the sample bytes held. */
  maxBytes: number;
  log?: Logger;
  /** Fraction of maxBytes past which the journal warns that it will drop (default 0.8). */
  warnRatio?: number;
  /** Free space on the journal's file system below which it warns and sheds acknowledged data (default 256 MiB). */
  diskLowBytes?: number;
  now?: () => number;
  /**
   * Another thread checkpoints this file (the embedded store's writer thread, `checkpointFiles`), so the journal
   * starts no checkpoint worker of its own: a worker thread costs ~16 MB of RSS.
   */
  checkpointedElsewhere?: boolean;
}

export interface JournalPressure {
  used_bytes: number;
  max_bytes: number;
  /** First entry some registered sink still waits for, null when every sink is caught up. */
  oldest_unacked_seq: number | null;
  /** True once the journal is past its warning mark: keep going and the oldest undelivered samples go. */
  will_drop: boolean;
  /** When, at the recent append rate, the bound will be hit (collector clock), null when not growing. */
  drop_at_estimate_ms: number | null;
  /** Entries dropped unacknowledged since the journal was created. */
  dropped_entries: number;
  entries: number;
  /** Appends that failed (disk full, I/O error) since the journal opened. */
  write_failures: number;
  /** Samples in those failed appends: not journalled, so never delivered to any sink. */
  write_lost_samples: number;
  /** The last append failed: why, and since when (collector clock); null once an append succeeds again. */
  write_error: { code: string; message: string; since_ms: number } | null;
  /** Free bytes on the journal's file system (null when it cannot be read). */
  disk_free_bytes: number | null;
  /** Free space is below the low-water mark: acknowledged data is being shed, and a full disk is near. */
  disk_low: boolean;
  /** `fsync: always`: appends committed whose WAL fsync has not completed yet (0 when every append is on disk). */
  unsynced_appends: number;
  /** The last WAL fsync failed: why (null once one succeeds). */
  fsync_error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sinks (name TEXT PRIMARY KEY, acked INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** Appended entries kept in memory for sinks that keep up (a few append groups). */
const TAIL_ENTRIES = 4096;

export class Journal {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly log: Logger;
  private readonly maxBytes: number;
  private readonly warnBytes: number;
  private readonly now: () => number;
  private usedBytes: number;
  private entryCount: number;
  private last: number;
  private dropped: number;
  private readonly ackedBySink = new Map<string, number>();
  /** Acks not yet written to the sinks table (written with the next transaction). */
  private readonly dirtyAcks = new Set<string>();
  /** The newest appended entries, consecutive seqs, oldest first. */
  private tail: JournalEntry[] = [];
  private readonly fsyncAlways: boolean;
  /** Appends not yet covered by a completed WAL fsync; one fsync in flight at a time, another owed after it. */
  private unsynced = 0;
  private syncing = false;
  private syncOwed = false;
  private fsyncError: string | null = null;
  private checkpointer: Checkpointer | null = null;
  private warned = false;
  private writeFailures = 0;
  private lostSamples = 0;
  private writeError: { code: string; message: string; since_ms: number } | null = null;
  private readonly diskLowBytes: number;
  private diskFree: number | null = null;
  private diskCheckedAt = Number.NEGATIVE_INFINITY;
  private diskWarned = false;
  private closed = false;
  /** Unacked growth rate (bytes/ms), smoothed, for `drop_at_estimate_ms`. */
  private rate = 0;
  private rateAt: number | null = null;
  private readonly stmts: {
    insert: Database.Statement;
    read: Database.Statement;
    ack: Database.Statement;
    delUpTo: Database.Statement;
    sumUpTo: Database.Statement;
    oldestN: Database.Statement;
    setMeta: Database.Statement;
  };

  private constructor(file: string, db: Database.Database, opts: JournalOptions) {
    this.file = file;
    this.db = db;
    this.log = opts.log ?? silentLogger;
    this.maxBytes = opts.maxBytes;
    this.warnBytes = Math.floor(opts.maxBytes * (opts.warnRatio ?? 0.8));
    this.diskLowBytes = opts.diskLowBytes ?? 256 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    this.fsyncAlways = opts.fsync === 'always';
    const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM entries').get() as {
      n: number;
      b: number;
    };
    this.usedBytes = totals.b;
    this.entryCount = totals.n;
    // AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence, so seqs never repeat after a trim.
    const seqRow = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").get() as
      | { seq: number }
      | undefined;
    this.last = seqRow?.seq ?? 0;
    const droppedRow = db.prepare("SELECT value FROM meta WHERE key = 'dropped'").get() as
      | { value: number }
      | undefined;
    this.dropped = droppedRow?.value ?? 0;
    for (const row of db.prepare('SELECT name, acked FROM sinks').all() as {
      name: string;
      acked: number;
    }[]) {
      this.ackedBySink.set(row.name, row.acked);
    }
    this.stmts = {
      insert: db.prepare('INSERT INTO entries (bytes, body) VALUES (?, ?)'),
      read: db.prepare('SELECT seq, body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?'),
      ack: db.prepare(
        'INSERT INTO sinks (name, acked) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET acked = excluded.acked',
      ),
      delUpTo: db.prepare('DELETE FROM entries WHERE seq <= ?'),
      sumUpTo: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM entries WHERE seq <= ?'),
      oldestN: db.prepare('SELECT seq, bytes FROM entries ORDER BY seq LIMIT ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  static open(dir: string, opts: JournalOptions): Journal {
    const file = join(dir, 'journal.db');
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw JournalErrors.open.with({ cause: err }, file, errorMessage(err));
    }
    try {
      db.pragma('journal_mode = WAL');
      // Commits write the WAL without an fsync on this thread; `fsync: always` syncs it in the thread pool.
      db.pragma('synchronous = NORMAL');
      // Checkpoints (which fsync the database file) run in a worker, not inside a commit.
      db.pragma('wal_autocheckpoint = 0');
      // A truncated or overwritten file often opens fine and fails only when a damaged page is read.
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
      db.exec(SCHEMA);
      const journal = new Journal(file, db, opts);
      if (!opts.checkpointedElsewhere) journal.checkpointer = new Checkpointer(file, 1000);
      return journal;
    } catch (err) {
      db.close();
      const msg = errorMessage(err);
      // Permission, space and I/O problems are the operator's to fix; anything else means a damaged file.
      if (/^SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM|BUSY)/.test(String((err as { code?: unknown }).code))) {
        throw JournalErrors.open.with({ cause: err }, file, msg);
      }
      throw JournalErrors.corrupt.with({ cause: err }, file, msg);
    }
  }

  /** Append samples in one transaction; returns the last seq, only once committed. */
  append(samples: readonly Sample[]): number {
    this.assertOpen();
    if (samples.length === 0) return this.last;
    this.watchDisk();
    const bodies = samples.map((s) => JSON.stringify(s));
    const incoming = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
    const before = this.usedBytes;
    try {
      this.db.transaction(() => {
        this.writeAcks();
        this.makeRoom(incoming);
        for (const body of bodies) {
          const r = this.stmts.insert.run(Buffer.byteLength(body), body);
          this.last = Number(r.lastInsertRowid);
        }
      })();
    } catch (err) {
      // Roll the counters back to what the DB holds.
      try {
        this.recount();
      } catch {
        // The disk that refused the write may refuse the read too; the counters catch up on the next success.
      }
      // Counted and kept visible (pressure().write_error → /healthz 503, /metrics, the live line) until an
      // append succeeds again: a lost sample is never silent.
      const e = JournalErrors.write.with({ cause: err }, errorMessage(err));
      this.writeFailures += 1;
      this.lostSamples += samples.length;
      const code = String((err as { code?: unknown }).code ?? e.code);
      this.writeError = { code, message: e.message, since_ms: this.writeError?.since_ms ?? this.now() };
      throw e;
    }
    if (this.writeError) {
      this.log.info(
        {
          failing_since_ms: this.writeError.since_ms,
          write_failures: this.writeFailures,
          lost_samples: this.lostSamples,
        },
        'journal writes again',
      );
      this.writeError = null;
    }
    this.usedBytes += incoming;
    this.entryCount += bodies.length;
    this.remember(samples);
    if (this.fsyncAlways) this.syncWal(samples.length);
    this.trackRate(this.usedBytes - before);
    this.checkWarn();
    return this.last;
  }

  /** Entries with seq > afterSeq, in order. */
  read(afterSeq: number, limit: number): JournalEntry[] {
    this.assertOpen();
    const first = this.tail[0];
    if (first !== undefined && afterSeq >= first.seq - 1) {
      const from = afterSeq - first.seq + 1;
      return this.tail.slice(from, from + Math.max(1, limit));
    }
    const rows = this.stmts.read.all(afterSeq, Math.max(1, limit)) as { seq: number; body: string }[];
    return rows.map((r) => ({ seq: r.seq, sample: JSON.parse(r.body) as Sample }));
  }

  /**
   * A sink's position. A sink never seen before starts at 0: it is sent everything the journal still holds
   * (a newly configured InfluxDB is backfilled with the undelivered window). Use `register` to persist that.
   */
  acked(sink: string): number {
    return this.ackedBySink.get(sink) ?? 0;
  }

  ack(sink: string, seq: number): void {
    this.assertOpen();
    const prev = this.ackedBySink.get(sink) ?? 0;
    if (seq <= prev) return;
    this.ackedBySink.set(sink, seq);
    this.dirtyAcks.add(sink);
  }

  /**
   * Declare a sink the journal must keep entries for. A new sink starts at 0 (it replays what the journal still
   * holds) rather than at the current end: a sink added to the config gets the recent past, not a hole.
   */
  register(sink: string): void {
    this.assertOpen();
    if (this.ackedBySink.has(sink)) return;
    this.stmts.ack.run(sink, 0);
    this.ackedBySink.set(sink, 0);
  }

  /** Forget a sink that is no longer configured, so it stops holding entries back. */
  unregister(sink: string): void {
    this.assertOpen();
    this.db.prepare('DELETE FROM sinks WHERE name = ?').run(sink);
    this.ackedBySink.delete(sink);
    this.dirtyAcks.delete(sink);
  }

  sinks(): string[] {
    return [...this.ackedBySink.keys()];
  }

  lastSeq(): number {
    return this.last;
  }

  /** Sample bytes held (the figure `maxBytes` bounds; the file itself reuses freed pages). */
  sizeBytes(): number {
    return this.usedBytes;
  }

  /** On-disk size of the database and its WAL. */
  fileBytes(): number {
    let n = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        n += statSync(f).size;
      } catch {
        // WAL may not exist yet.
      }
    }
    return n;
  }

  droppedEntries(): number {
    return this.dropped;
  }

  /** Delete entries every registered sink has acknowledged. With no sink registered nothing is trimmed. */
  trim(): void {
    this.assertOpen();
    const upTo = this.minAcked();
    if (upTo === null || upTo <= 0) return;
    const { n, b } = this.stmts.sumUpTo.get(upTo) as { n: number; b: number };
    if (n === 0) return;
    // The acks that allow the delete are written with it: the table never points a sink before a deleted entry
    // it has not acknowledged.
    this.db.transaction(() => {
      this.writeAcks();
      this.stmts.delUpTo.run(upTo);
    })();
    this.forgetUpTo(upTo);
    this.usedBytes -= b;
    this.entryCount -= n;
    if (this.usedBytes < this.warnBytes) this.warned = false;
  }

  pressure(): JournalPressure {
    // Free space as of now (one statfs): health and metrics must not show a stale "disk low".
    if (!this.closed) this.diskFree = this.freeBytes();
    const min = this.minAcked();
    const behind = min !== null && min < this.last;
    const remaining = this.maxBytes - this.usedBytes;
    return {
      used_bytes: this.usedBytes,
      max_bytes: this.maxBytes,
      oldest_unacked_seq: behind ? this.firstSeqAfter(min) : null,
      will_drop: this.usedBytes >= this.warnBytes,
      drop_at_estimate_ms:
        behind && this.rate > 0 && this.rateAt !== null
          ? Math.round(this.rateAt + Math.max(0, remaining) / this.rate)
          : null,
      dropped_entries: this.dropped,
      entries: this.entryCount,
      write_failures: this.writeFailures,
      write_lost_samples: this.lostSamples,
      write_error: this.writeError ? { ...this.writeError } : null,
      disk_free_bytes: this.diskFree,
      disk_low: this.diskFree !== null && this.diskFree < this.diskLowBytes,
      unsynced_appends: this.unsynced,
      fsync_error: this.fsyncError,
    };
  }

  /** Free bytes on the journal's file system now, or null. */
  private freeBytes(): number | null {
    try {
      const s = statfsSync(this.file);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      return null;
    }
  }

  /**
   * Free-space watermark, checked at most once a second on append: below it, warn (once per episode) and shed
   * acknowledged data first (trim delivered entries, truncate the WAL) before the disk fills and writes fail.
   */
  private watchDisk(): void {
    const t = performance.now();
    if (t - this.diskCheckedAt < 1000) return;
    this.diskCheckedAt = t;
    this.diskFree = this.freeBytes();
    if (this.diskFree === null || this.diskFree >= this.diskLowBytes) {
      this.diskWarned = false;
      return;
    }
    if (!this.diskWarned) {
      this.diskWarned = true;
      this.log.warn(
        {
          code: JournalErrors.diskLow.code,
          free_bytes: this.diskFree,
          low_bytes: this.diskLowBytes,
          dir: this.file,
        },
        'disk nearly full under the journal: shedding acknowledged data; free space or samples will be lost',
      );
    }
    try {
      this.trim();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Shedding is best effort; a failing append reports the real problem.
    }
  }

  /**
   * Close the journal. Its own connection closes at once; the returned promise resolves once the checkpoint
   * worker has stopped too (await it before removing or unmounting the directory).
   */
  close(): Promise<void> {
    if (this.closed) return this.stopped;
    this.closed = true;
    try {
      this.writeAcks();
    } catch (err) {
      // Only costs a replay of what was acknowledged since the last append: every sink is idempotent.
      this.log.warn({ err: errorMessage(err) }, 'journal: acknowledgements not written at close');
    }
    this.db.close();
    // The worker runs a last checkpoint (synchronous=NORMAL syncs at checkpoints) and closes its connection.
    this.stopped = this.checkpointer?.stop() ?? Promise.resolve();
    this.checkpointer = null;
    return this.stopped;
  }

  private stopped: Promise<void> = Promise.resolve();

  /**
   * fsync the WAL in libuv's thread pool after an append (one at a time; appends made meanwhile are covered by
   * the next one). The append is already committed: this only moves it from the page cache to the disk.
   */
  private syncWal(appended: number): void {
    this.unsynced += appended;
    if (this.syncing) {
      this.syncOwed = true;
      return;
    }
    this.syncing = true;
    this.syncOwed = false;
    const covering = this.unsynced;
    const done = (err: NodeJS.ErrnoException | null) => {
      this.syncing = false;
      if (err && err.code !== 'ENOENT') {
        if (this.fsyncError === null) {
          this.log.error({ code: JournalErrors.write.code, err: err.message }, 'journal: WAL fsync failed');
        }
        this.fsyncError = err.message;
      } else {
        // ENOENT: a checkpoint reset the WAL, and its contents are in the (synced) database file.
        this.fsyncError = null;
        this.unsynced -= covering;
      }
      if (this.syncOwed && !this.closed) this.syncWal(0);
    };
    open(`${this.file}-wal`, 'r', (openErr, fd) => {
      if (openErr) return done(openErr);
      fsync(fd, (syncErr) => closeFd(fd, () => done(syncErr)));
    });
  }

  /** Persist the acks held in memory (call inside a transaction where there is one). */
  private writeAcks(): void {
    if (this.dirtyAcks.size === 0) return;
    for (const sink of this.dirtyAcks) {
      const seq = this.ackedBySink.get(sink);
      if (seq !== undefined) this.stmts.ack.run(sink, seq);
    }
    this.dirtyAcks.clear();
  }

  /** The tail holds only what the journal holds. */
  private forgetUpTo(seq: number): void {
    const first = this.tail[0];
    if (first === undefined || first.seq > seq) return;
    this.tail = this.tail.slice(Math.min(this.tail.length, seq - first.seq + 1));
  }

  /** Keep the newest appended samples (seqs last-n+1..last) for sinks that read right behind the writer. */
  private remember(samples: readonly Sample[]): void {
    const firstSeq = this.last - samples.length + 1;
    const prev = this.tail[this.tail.length - 1];
    // The tail must stay consecutive; after a gap (never expected), start again.
    if (prev !== undefined && prev.seq !== firstSeq - 1) this.tail = [];
    for (let i = 0; i < samples.length; i++) this.tail.push({ seq: firstSeq + i, sample: samples[i]! });
    if (this.tail.length > TAIL_ENTRIES) this.tail = this.tail.slice(this.tail.length - TAIL_ENTRIES);
  }

  private minAcked(): number | null {
    if (this.ackedBySink.size === 0) return null;
    return Math.min(...this.ackedBySink.values());
  }

  private firstSeqAfter(seq: number): number | null {
    const row = this.stmts.read.get(seq, 1) as { seq: number } | undefined;
    return row?.seq ?? null;
  }

  /** Inside the append transaction: drop the oldest entries until `incoming` fits, warning first. */
  private makeRoom(incoming: number): void {
    if (this.usedBytes + incoming <= this.maxBytes) return;
    // Acknowledged entries go first, and silently: they are delivered.
    this.trim();
    if (this.usedBytes + incoming <= this.maxBytes) return;
    // Drop only after the warning: if this append jumps straight past the mark, warn now, then drop.
    this.checkWarn(incoming);
    let need = this.usedBytes + incoming - this.maxBytes;
    let dropped = 0;
    let droppedBytes = 0;
    let upTo = 0;
    while (need > 0) {
      const rows = this.stmts.oldestN.all(256) as { seq: number; bytes: number }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        if (need <= 0) break;
        need -= r.bytes;
        droppedBytes += r.bytes;
        dropped += 1;
        upTo = r.seq;
      }
      this.stmts.delUpTo.run(upTo);
    }
    if (dropped === 0) return;
    // A dropped sample is not delivered from memory either: what the journal counts as dropped is gone.
    this.forgetUpTo(upTo);
    this.usedBytes -= droppedBytes;
    this.entryCount -= dropped;
    this.dropped += dropped;
    this.stmts.setMeta.run('dropped', this.dropped);
    const lagging = [...this.ackedBySink].filter(([, a]) => a < upTo).map(([name]) => name);
    this.log.warn(
      {
        code: JournalErrors.dropped.code,
        dropped,
        dropped_total: this.dropped,
        up_to_seq: upTo,
        sinks_behind: lagging,
        max_bytes: this.maxBytes,
      },
      `journal full: dropped the ${dropped} oldest samples not yet delivered to ${lagging.join(', ') || 'every sink'}`,
    );
  }

  private checkWarn(extra = 0): void {
    if (this.warned || this.usedBytes + extra < this.warnBytes) return;
    this.warned = true;
    const p = this.pressure();
    this.log.warn(
      {
        code: JournalErrors.nearFull.code,
        used_bytes: this.usedBytes + extra,
        max_bytes: this.maxBytes,
        oldest_unacked_seq: p.oldest_unacked_seq,
        drop_at_estimate_ms: p.drop_at_estimate_ms,
        sinks: Object.fromEntries(this.ackedBySink),
      },
      'journal nearly full: a sink is not keeping up; the oldest undelivered samples will be dropped when it is full (raise storage.journal_max_mb or fix the sink)',
    );
  }

  private trackRate(grewBytes: number): void {
    const t = this.now();
    if (this.rateAt !== null && t > this.rateAt) {
      const inst = grewBytes / (t - this.rateAt);
      this.rate = this.rate === 0 ? inst : this.rate * 0.9 + inst * 0.1;
    }
    this.rateAt = t;
  }

  private recount(): void {
    const totals = this.db
      .prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM entries')
      .get() as {
      n: number;
      b: number;
    };
    this.usedBytes = totals.b;
    this.entryCount = totals.n;
    const seqRow = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").get() as
      | { seq: number }
      | undefined;
    this.last = seqRow?.seq ?? 0;
  }

  private assertOpen(): void {
    if (this.closed) throw JournalErrors.closed();
  }
}

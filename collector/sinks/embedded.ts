/**
 * The embedded store: zero-config history in SQLite (`<storage.dir>/store.db`, WAL). A `Sink` for the fan-out
 * and the `HistoryStore` the API reads.
 *
 * - `samples`: raw samples (key columns + JSON of boards/fans/pools/identity), kept `raw_retention_hours`.
 *   A sample's identity is (rig_id, at_ms) — one poll of one rig — so replaying a batch (the journal re-sends
 *   from the last acknowledged seq after a crash) inserts nothing twice. We do not key on the journal seq alone:
 *   a journal moved aside after corruption starts again at seq 1 and must not collide with stored history.
 * - `rollups`: hourly per-rig aggregates kept `rollup_retention_days`, updated as samples arrive (only for newly
 *   inserted samples, so replays do not double count).
 *
 * Time integration (energy, seconds mining/curtailed/offline): the state and power seen at a poll hold until the
 * next poll of that rig, **if** the next poll comes within the gap cap — 2 × poll interval after an answered poll,
 * 2 × (backoff max + interval) after a failed one (the scheduler polls dead rigs less often on purpose). A longer
 * gap (collector down, rig removed) is not integrated: a gap stays a gap.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../lib/errors.js';
import type { PowerSource, RigState, Sample } from '../../protocols/sample.js';
import { StoreErrors } from '../errors.js';
import { type Logger, silentLogger } from '../journal.js';
import type { HistoryPoint, HistoryQuery, HistoryStore } from '../views.js';
import type { JournalEntry, Sink } from './sink.js';

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
const SOURCE_RANK: Record<PowerSource, number> = { pdu: 1, miner: 2, estimate: 3 };
const RANK_SOURCE: (PowerSource | null)[] = [null, 'pdu', 'miner', 'estimate'];
const HASHING: ReadonlySet<RigState> = new Set(['mining', 'ramping', 'curtailed']);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS samples (
  rig_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  state TEXT NOT NULL,
  hashrate_hs REAL,
  power_w REAL,
  power_source TEXT,
  temp_chip_max_c REAL,
  temp_board_max_c REAL,
  error_code TEXT,
  detail TEXT NOT NULL,
  PRIMARY KEY (rig_id, at_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_at ON samples (at_ms);
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
`;

/** The slice of a sample the integration needs. */
interface Point {
  at_ms: number;
  ok: boolean;
  state: string;
  power_w: number | null;
}

export class EmbeddedStore implements Sink, HistoryStore {
  readonly name = 'embedded';
  readonly file: string;
  readonly db: Database.Database;
  private readonly opts: EmbeddedStoreOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly st: Record<string, Database.Statement>;

  private constructor(file: string, db: Database.Database, opts: EmbeddedStoreOptions) {
    this.file = file;
    this.db = db;
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.st = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO samples (rig_id, at_ms, seq, ok, state, hashrate_hs, power_w, power_source,
           temp_chip_max_c, temp_board_max_c, error_code, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
      ),
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
        `SELECT at_ms, ok, state, hashrate_hs, power_w, power_source, temp_chip_max_c FROM samples
         WHERE rig_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms`,
      ),
      rollRange: db.prepare(
        'SELECT * FROM rollups WHERE rig_id = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms',
      ),
      rigIds: db.prepare('SELECT rig_id FROM rig_last ORDER BY rig_id'),
      pruneRaw: db.prepare('DELETE FROM samples WHERE at_ms < ?'),
      pruneRoll: db.prepare('DELETE FROM rollups WHERE hour_ms < ?'),
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
      db.pragma('journal_mode = WAL');
      // The journal is the durable copy: the store may lose its last commits on power loss and get them replayed.
      db.pragma('synchronous = NORMAL');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
      db.exec(SCHEMA);
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
    if (this.timer) return;
    this.prune();
    this.timer = setInterval(() => this.prune(), this.opts.pruneEveryMs ?? 600_000);
    this.timer.unref();
  }

  async write(batch: readonly JournalEntry[]): Promise<void> {
    try {
      this.writeSync(batch);
    } catch (err) {
      throw StoreErrors.write.with({ cause: err }, errorMessage(err));
    }
  }

  /** Insert a batch in one transaction; returns how many samples were new. */
  writeSync(batch: readonly JournalEntry[]): number {
    let added = 0;
    this.db.transaction(() => {
      for (const e of batch) if (this.ingest(e)) added += 1;
    })();
    return added;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Delete raw samples and rollups past their retention. */
  prune(nowMs = this.now()): { raw: number; rollups: number } {
    if (this.closed) return { raw: 0, rollups: 0 };
    try {
      const raw = this.st.pruneRaw!.run(nowMs - this.opts.rawRetentionHours * HOUR).changes;
      const rollups = this.st.pruneRoll!.run(nowMs - this.opts.rollupRetentionDays * 24 * HOUR).changes;
      if (raw || rollups) this.log.debug({ raw, rollups }, 'embedded store pruned');
      return { raw, rollups };
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'embedded store pruning failed');
      return { raw: 0, rollups: 0 };
    }
  }

  rigIds(): string[] {
    return (this.st.rigIds!.all() as { rig_id: string }[]).map((r) => r.rig_id);
  }

  rollups(rigId: string, fromMs: number, toMs: number): RollupRow[] {
    const rows = this.st.rollRange!.all(rigId, fromMs, toMs) as Record<string, number | string | null>[];
    return rows.map((r) => {
      const n = (k: string) => Number(r[k] ?? 0);
      return {
        rig_id: String(r.rig_id),
        hour_ms: n('hour_ms'),
        polls: n('polls'),
        polls_ok: n('polls_ok'),
        polls_expected: Math.round(n('polls_expected') * 100) / 100,
        hashrate_hs: n('hashrate_n') > 0 ? n('hashrate_sum') / n('hashrate_n') : null,
        power_w: n('power_n') > 0 ? n('power_sum') / n('power_n') : null,
        power_source: RANK_SOURCE[n('source_rank')] ?? null,
        energy_wh: n('energy_s') > 0 ? n('energy_wh') : null,
        temp_chip_max_c: r.temp_chip_max_c === null ? null : Number(r.temp_chip_max_c),
        mining_s: n('mining_s'),
        curtailed_s: n('curtailed_s'),
        offline_s: n('offline_s'),
        covered_s: n('covered_s'),
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
    const acc: Acc[] = Array.from({ length: count }, () => newAcc());
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
      const lookback = 2 * (this.opts.backoffMaxMs + this.opts.intervalMs);
      const rows = this.st.rawRange!.all(q.rigId, start - lookback, q.toMs) as {
        at_ms: number;
        ok: number;
        state: string;
        hashrate_hs: number | null;
        power_w: number | null;
        power_source: PowerSource | null;
        temp_chip_max_c: number | null;
      }[];
      let prev: Point | null = null;
      for (const r of rows) {
        const cur: Point = { at_ms: r.at_ms, ok: r.ok === 1, state: r.state, power_w: r.power_w };
        if (prev) {
          this.integrate(prev, cur, (from, to) => {
            // Pieces are split at bucket edges; drop those before the raw part of the range.
            let t = Math.max(from, start);
            while (t < to) {
              const b = bucketOf(t);
              const edge = Math.min(to, q.fromMs + (b + 1) * stepMs);
              const a = acc[b];
              if (a) {
                const s = (edge - t) / 1000;
                if (prev!.ok && prev!.state === 'mining') a.mining_s += s;
                if (prev!.ok && prev!.power_w !== null)
                  a.energy = (a.energy ?? 0) + (prev!.power_w * s) / 3600;
              }
              t = edge;
            }
          });
        }
        prev = cur;
        if (r.at_ms < start) continue;
        const a = acc[bucketOf(r.at_ms)];
        if (!a) continue;
        a.polls += 1;
        if (r.ok === 1) {
          a.polls_ok += 1;
          // A rig polled fine at 0 H/s is 0, not missing; a non-hashing state's leftover figure is left out.
          if (r.hashrate_hs !== null && (HASHING.has(r.state as RigState) || r.hashrate_hs === 0)) {
            a.hs_sum += r.hashrate_hs;
            a.hs_n += 1;
          }
          if (r.power_w !== null) {
            a.p_sum += r.power_w;
            a.p_n += 1;
            if (r.power_source) a.rank = Math.max(a.rank, SOURCE_RANK[r.power_source]);
          }
          if (r.temp_chip_max_c !== null)
            a.temp = a.temp === null ? r.temp_chip_max_c : Math.max(a.temp, r.temp_chip_max_c);
        }
      }
    }

    return acc.map((a, i) => ({
      t_ms: q.fromMs + i * stepMs,
      hashrate_hs: a.hs_n > 0 ? a.hs_sum / a.hs_n : null,
      power_w: a.p_n > 0 ? a.p_sum / a.p_n : null,
      power_source: RANK_SOURCE[a.rank] ?? null,
      temp_chip_max_c: a.temp,
      energy_wh: a.energy === null ? null : Math.round(a.energy * 1000) / 1000,
      polls: a.polls,
      polls_ok: a.polls_ok,
      mining_s: Math.round(a.mining_s * 1000) / 1000,
    }));
  }

  /** Calls `span(from, to)` for the interval [prev, cur) when it is short enough to integrate. */
  private integrate(prev: Point, cur: Point, span: (from: number, to: number) => void): void {
    if (cur.at_ms <= prev.at_ms) return;
    const cap = prev.ok ? 2 * this.opts.intervalMs : 2 * (this.opts.backoffMaxMs + this.opts.intervalMs);
    if (cur.at_ms - prev.at_ms > cap) return;
    span(prev.at_ms, cur.at_ms);
  }

  private ingest(e: JournalEntry): boolean {
    const s: Sample = e.sample;
    if (typeof s?.rig_id !== 'string' || !Number.isFinite(s.at_ms)) {
      this.log.warn({ seq: e.seq }, 'embedded store: entry without rig_id/at_ms skipped');
      return false;
    }
    const ok = s.poll?.ok === true;
    const detail = JSON.stringify({
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
      s.rig_id,
      s.at_ms,
      e.seq,
      ok ? 1 : 0,
      s.state,
      s.hashrate_hs,
      s.power_w,
      s.power_source,
      s.temp_chip_max_c,
      s.temp_board_max_c,
      s.poll?.error_code ?? null,
      detail,
    );
    if (r.changes === 0) return false; // replay: already stored and already rolled up

    const last = this.st.last!.get(s.rig_id) as
      | { at_ms: number; ok: number; state: string; power_w: number | null; first_ms: number }
      | undefined;
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
      this.integrate(prev, { at_ms: s.at_ms, ok, state: s.state, power_w: s.power_w }, (from, to) => {
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
      this.st.setLast!.run(s.rig_id, s.at_ms, ok ? 1 : 0, s.state, ok ? s.power_w : null, firstMs);
    }
    return true;
  }

  private ensureHour(rigId: string, hour: number, firstMs: number): void {
    // Polls expected in this hour: from the rig's first sighting (or the hour start) to the hour's end.
    const from = Math.max(hour, Math.min(firstMs, hour + HOUR));
    this.st.ensureHour!.run(rigId, hour, (hour + HOUR - from) / this.opts.intervalMs);
  }
}

interface Acc {
  polls: number;
  polls_ok: number;
  hs_sum: number;
  hs_n: number;
  p_sum: number;
  p_n: number;
  rank: number;
  temp: number | null;
  energy: number | null;
  mining_s: number;
}

function newAcc(): Acc {
  return {
    polls: 0,
    polls_ok: 0,
    hs_sum: 0,
    hs_n: 0,
    p_sum: 0,
    p_n: 0,
    rank: 0,
    temp: null,
    energy: null,
    mining_s: 0,
  };
}

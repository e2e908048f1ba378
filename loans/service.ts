/**
 * The loans runtime: facilities, the live pledged-vs-seen watchers, the audit log, the signing key and the
 * report chain (`<storage.dir>/loans.db`: which rig id each pledge was last matched to, and every issued
 * report's hash and predecessor). `rigtel run` builds one on its embedded store and feeds it every sample;
 * `rigtel api` builds one on InfluxDB (loans/influx-source.ts) and feeds it the MQTT state messages. Figures are
 * read through a `LoanDataSource` (loans/source.ts); the API reads the service.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AlertEngine, AlertEvent } from '../collector/alerts.js';
import { marketSeries } from '../collector/market/inputs.js';
import type { MarketStore } from '../collector/market/store.js';
import type { EmbeddedStore, RollupRow } from '../collector/sinks/embedded.js';
import type { Config } from '../config/schema.js';
import { subsidySats } from '../economics/subsidy.js';
import type { Sample } from '../protocols/sample.js';
import { AuditLog } from './audit.js';
import { canonicalJson } from './canonical.js';
import { loanCostBasis } from './costs.js';
import { computeCovenants, FORMULA_VERSION, type RigInput } from './covenants.js';
import { LoanErrors } from './errors.js';
import { loadOrCreateKey, type SigningKey } from './keys.js';
import {
  type PledgeChange,
  type PledgePoll,
  type PledgeState,
  PledgeWatcher,
  type UnpledgedChange,
} from './pledges.js';
import { type LoanFacility, loadFacilities } from './register.js';
import { buildReportBody, REPORT_KIND, type ReportBody } from './report.js';
import { type SignedDoc, serializeDoc, signDoc } from './signed.js';
import { EmbeddedLoanSource, type LoanDataSource, type LoanHours } from './source.js';

const HOUR = 3_600_000;
/** Raw samples replayed for the pledged-vs-seen part of a report: the last hours of the period. */
export const RECONCILE_WINDOW_MS = 6 * HOUR;
const MAX_PERIOD_MS = 400 * 24 * HOUR;
/** `reportAsync` (the API's path) reads and replays the window in steps of about this much work. */
const REPORT_STEP_MS = 20;
/**
 * Reports the API path builds or holds waiting at once. Each replays hours of every rig's polls (seconds of
 * main-thread work at 10,000 rigs, stepped), so they run one at a time, a request for a report already being
 * built shares it, and past this many the request is refused (RT_ERR_LOAN_BUSY, 503) instead of queueing work
 * without bound on the collector's event loop.
 */
export const REPORTS_WAITING_MAX = 4;

interface Reconciled {
  watcher: PledgeWatcher;
  /** Every stored poll of the window (the report's `reconciliation_window.samples`). */
  samples: number;
}

/** The raw-sample window replayed for pledged-vs-seen, and the first whole hour of the rollups read. */
function reportWindow(fromMs: number, toMs: number): { windowFrom: number; hourFrom: number } {
  return {
    windowFrom: Math.max(fromMs, toMs - RECONCILE_WINDOW_MS),
    hourFrom: Math.floor(fromMs / HOUR) * HOUR,
  };
}

export type LoanServiceOptions = LoanServiceBase & ({ store: EmbeddedStore } | { source: LoanDataSource });

interface LoanServiceBase {
  config: Config;
  /** Folder relative paths in the loans section resolve against (the config file's folder). */
  baseDir?: string;
  alerts?: AlertEngine;
  now?: () => number;
  /** The economics market store: read when the config gives no loan market series (`loans.market`). */
  market?: { store: MarketStore; feesValidMs: number };
  /** Called with alert events raised by pledge changes (e.g. to publish them on MQTT). */
  onAlert?: (events: AlertEvent[]) => void;
  /** False when the live samples given to `observe` carry no serial numbers (MQTT state messages). */
  liveSerials?: boolean;
}

export interface IssuedReport {
  doc: SignedDoc<ReportBody>;
  bytes: string;
}

export class LoanService {
  readonly facilities: LoanFacility[];
  readonly key: SigningKey;
  readonly audit: AuditLog | null;
  readonly #cfg: Config;
  readonly #source: LoanDataSource;
  readonly #db: Database.Database;
  readonly #watchers = new Map<string, PledgeWatcher>();
  /** The API path's reports: the one being built and those waiting, by loan and period. */
  readonly #reports = new Map<string, Promise<IssuedReport>>();
  #reportsDone: Promise<unknown> = Promise.resolve();
  readonly #alerts: AlertEngine | undefined;
  readonly #now: () => number;
  readonly #onAlert: ((events: AlertEvent[]) => void) | undefined;
  readonly #market: LoanServiceOptions['market'];

  constructor(opts: LoanServiceOptions) {
    this.#cfg = opts.config;
    this.#source = 'source' in opts ? opts.source : new EmbeddedLoanSource(opts.store);
    this.#alerts = opts.alerts;
    this.#now = opts.now ?? Date.now;
    this.#onAlert = opts.onAlert;
    this.#market = opts.market;
    const dir = opts.config.storage.dir;
    this.facilities = loadFacilities(opts.config.loans, opts.baseDir ?? '.');
    this.key = loadOrCreateKey(dir);
    this.audit = opts.config.audit.enabled ? new AuditLog(dir, this.#now) : null;
    this.#db = new Database(join(dir, 'loans.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS pledge_rigs (loan_id TEXT NOT NULL, key TEXT NOT NULL, rig_id TEXT NOT NULL,
        updated_ms INTEGER NOT NULL, PRIMARY KEY (loan_id, key));
      CREATE TABLE IF NOT EXISTS reports (loan_id TEXT NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL,
        hash TEXT NOT NULL, prev_hash TEXT, issued_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (loan_id, from_ms, to_ms));
    `);
    const start = this.#now();
    const serials = opts.liveSerials ?? true;
    for (const f of this.facilities) this.#watchers.set(f.id, new PledgeWatcher(f, start, { serials }));
    this.recordConfigState();
  }

  close(): void {
    this.#db.close();
  }

  /** Config-sourced state into the audit log: only what differs from the last recorded value is appended. */
  recordConfigState(): void {
    const a = this.audit;
    if (!a) return;
    const loans = new Set<string>();
    const pledges = new Set<string>();
    for (const f of this.facilities) {
      const { pledges: ps, ...terms } = f;
      loans.add(f.id);
      a.recordState('loan', f.id, 'config', terms);
      for (const p of ps) {
        pledges.add(`${f.id}/${p.key}`);
        a.recordState('pledge', `${f.id}/${p.key}`, 'config', p);
      }
    }
    for (const s of a.subjects('loan')) if (!loans.has(s)) a.recordState('loan', s, 'config', null);
    for (const s of a.subjects('pledge')) if (!pledges.has(s)) a.recordState('pledge', s, 'config', null);
    const l = this.#cfg.loans;
    // The cost basis loan cash flow uses: economics lines with any loan-level override in place.
    a.recordState('tariff', 'site', 'config', loanCostBasis(this.#cfg));
    a.recordState('market_override', 'config', 'config', l.market);
    // The economics settings and fixed market values (collector/economics, collector/market) are money inputs too.
    a.recordState('tariff', 'economics', 'config', this.#cfg.economics);
    a.recordState('market_override', 'market.fixed', 'config', this.#cfg.market.fixed ?? null);
    const outlets = new Map<string, unknown[]>();
    for (const m of this.#cfg.snmp.map) {
      const list = outlets.get(m.rig) ?? [];
      list.push({ device: m.device, outlet: m.outlet ?? null, port: m.port ?? null });
      outlets.set(m.rig, list);
    }
    for (const [rig, list] of outlets) a.recordState('outlet_mapping', rig, 'config', list);
    for (const s of a.subjects('outlet_mapping'))
      if (!outlets.has(s)) a.recordState('outlet_mapping', s, 'config', null);
  }

  facility(id: string): LoanFacility {
    const f = this.facilities.find((x) => x.id === id);
    if (!f) throw LoanErrors.notFound(id);
    return f;
  }

  /** Live pledged-vs-seen state of a loan. */
  live(id: string): { pledged: PledgeState[]; unpledged: ReturnType<PledgeWatcher['unpledged']> } {
    const w = this.#watchers.get(this.facility(id).id)!;
    return { pledged: w.pledged(), unpledged: w.unpledged() };
  }

  /** Every poll: update the watchers; status changes raise alerts and go to the audit log. */
  observe(sample: Sample): AlertEvent[] {
    const events: AlertEvent[] = [];
    for (const w of this.#watchers.values()) {
      const { changes, unpledged } = w.observe(sample);
      for (const c of changes) events.push(...this.#onChange(w, c, sample));
      for (const u of unpledged) events.push(...this.#onUnpledged(u, sample));
    }
    if (events.length) this.#onAlert?.(events);
    return events;
  }

  #onChange(w: PledgeWatcher, c: PledgeChange, sample: Sample): AlertEvent[] {
    const st = w.pledged().find((s) => s.key === c.key);
    if (st?.rig_id)
      this.#db
        .prepare('INSERT OR REPLACE INTO pledge_rigs (loan_id, key, rig_id, updated_ms) VALUES (?, ?, ?, ?)')
        .run(c.loan_id, c.key, st.rig_id, c.at_ms);
    this.audit?.append(
      'rig',
      `${c.loan_id}/${c.key}`,
      'collector',
      { status: c.from },
      { status: c.to, detail: c.detail },
    );
    if (!this.#alerts) return [];
    const id = `${sample.site}/loan:${c.loan_id}/${c.key}`;
    const kind = c.to === 'seen' ? null : (`pledge_${c.to}` as const);
    const ev = this.#alerts.raiseExternal(
      id,
      kind
        ? {
            kind,
            site: sample.site,
            rig_id: st?.rig_id ?? c.key,
            message: `loan ${c.loan_id}: pledged rig ${c.key} is ${c.to}${c.detail ? ` (${c.detail})` : ''}`,
            since_ms: c.at_ms,
            raised_ms: c.at_ms,
            value: null,
            threshold: null,
          }
        : null,
      c.at_ms,
    );
    return ev ? [ev] : [];
  }

  #onUnpledged(u: UnpledgedChange, sample: Sample): AlertEvent[] {
    this.audit?.append('rig', `${u.loan_id}/unpledged/${u.rig_id}`, 'collector', null, {
      address: u.address,
      ...u.identity,
    });
    if (!this.#alerts) return [];
    const ev = this.#alerts.raiseExternal(
      `${sample.site}/loan:${u.loan_id}/unpledged/${u.rig_id}`,
      {
        kind: 'unpledged_rig',
        site: sample.site,
        rig_id: u.rig_id,
        message: `loan ${u.loan_id}: rig ${u.rig_id} at ${u.address} answers at the site but is not pledged`,
        since_ms: u.at_ms,
        raised_ms: u.at_ms,
        value: null,
        threshold: null,
      },
      u.at_ms,
    );
    return ev ? [ev] : [];
  }

  /** Parse from/to (ISO or ms); default: the last 24 h up to now. */
  period(from: string | undefined, to: string | undefined): { fromMs: number; toMs: number } {
    const parse = (v: string, name: string) => {
      const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
      if (!Number.isFinite(n)) throw LoanErrors.badPeriod(`${name}: not a time: ${v.slice(0, 40)}`);
      return n;
    };
    const toMs = to ? parse(to, 'to') : this.#now();
    const fromMs = from ? parse(from, 'from') : toMs - 24 * HOUR;
    if (fromMs >= toMs) throw LoanErrors.badPeriod('from must be before to');
    if (toMs - fromMs > MAX_PERIOD_MS) throw LoanErrors.badPeriod('a period is at most 400 days');
    return { fromMs, toMs };
  }

  /** Replays the stored polls of the window through a fresh watcher (deterministic). */
  #replay(f: LoanFacility, fromMs: number, polls: Iterable<PledgePoll>): PledgeWatcher {
    const watcher = new PledgeWatcher(f, fromMs, { serials: this.#source.serials });
    for (const p of polls) watcher.observePoll(p);
    return watcher;
  }

  /** The same replay, giving the event loop a turn every `stepMs` of work. */
  async #replayInSteps(
    f: LoanFacility,
    fromMs: number,
    polls: Iterable<PledgePoll> | AsyncIterable<PledgePoll>,
    stepMs: number,
  ): Promise<PledgeWatcher> {
    const watcher = new PledgeWatcher(f, fromMs, { serials: this.#source.serials });
    let since = performance.now();
    let i = 0;
    if (Symbol.asyncIterator in polls) {
      // Read a slice at a time by the source (InfluxDB), and a slice replayed in steps as well.
      for await (const p of polls) {
        watcher.observePoll(p);
        if ((++i & 1023) === 0 && performance.now() - since >= stepMs) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
      return watcher;
    }
    for (const p of polls) {
      watcher.observePoll(p);
      if ((++i & 1023) === 0 && performance.now() - since >= stepMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        since = performance.now();
      }
    }
    return watcher;
  }

  /**
   * The window's pledged-vs-seen: a replay of the polls that can change a pledge's status, then every other rig's
   * first and last sighting merged in (`ReplayWindow`, loans/source.ts) when the source can reduce the window;
   * else every poll replayed. The same lists either way. With `stepMs` (the API's path) the embedded store is read
   * and the polls replayed in steps of about that much work, the event loop served between steps.
   */
  #reconcile(f: LoanFacility, windowFrom: number, toMs: number): Reconciled;
  #reconcile(f: LoanFacility, windowFrom: number, toMs: number, stepMs: number): Promise<Reconciled>;
  #reconcile(
    f: LoanFacility,
    windowFrom: number,
    toMs: number,
    stepMs?: number,
  ): Reconciled | Promise<Reconciled> {
    const src = this.#source;
    if (stepMs !== undefined)
      return (async () => {
        if (!src.replayWindow) {
          const polls = await src.polls(windowFrom, toMs);
          return {
            watcher: await this.#replayInSteps(f, windowFrom, polls, stepMs),
            samples: polls.length,
          };
        }
        const probe = new PledgeWatcher(f, windowFrom, { serials: src.serials });
        const w = await src.replayWindow(windowFrom, toMs, (id) => probe.matchesPledge(id), { stepMs });
        const watcher = await this.#replayInSteps(f, windowFrom, w.polls, stepMs);
        for (const u of w.others) watcher.mergeUnpledged(u);
        return { watcher, samples: w.samples };
      })();
    if (!src.replayWindow) {
      const polls = src.polls(windowFrom, toMs);
      if (polls instanceof Promise) throw new TypeError('loan data source is asynchronous: use reportAsync');
      return { watcher: this.#replay(f, windowFrom, polls), samples: polls.length };
    }
    const probe = new PledgeWatcher(f, windowFrom, { serials: src.serials });
    const w = src.replayWindow(windowFrom, toMs, (id) => probe.matchesPledge(id));
    if (w instanceof Promise || Symbol.asyncIterator in w.polls)
      throw new TypeError('loan data source is asynchronous: use reportAsync');
    const watcher = this.#replay(f, windowFrom, w.polls);
    for (const u of w.others) watcher.mergeUnpledged(u);
    return { watcher, samples: w.samples };
  }

  /** The signed report of a loan over [from, to), from a source that answers synchronously (the embedded store). */
  report(id: string, fromMs: number, toMs: number): IssuedReport {
    const f = this.facility(id);
    const { windowFrom, hourFrom } = reportWindow(fromMs, toMs);
    const seen = this.#reconcile(f, windowFrom, toMs);
    const hours = this.#source.hours(hourFrom, toMs);
    if (hours instanceof Promise) throw new TypeError('loan data source is asynchronous: use reportAsync');
    return this.#report(f, fromMs, toMs, seen, hours);
  }

  /** The signed report of a loan over [from, to), from any source (InfluxDB answers asynchronously). */
  /**
   * The signed report of a loan over [from, to), built in steps that give the event loop turns (the API's path).
   * One report is built at a time; the same loan and period asked again while it is built or waiting gets the
   * same report; more than REPORTS_WAITING_MAX at once are refused with RT_ERR_LOAN_BUSY.
   */
  reportAsync(id: string, fromMs: number, toMs: number): Promise<IssuedReport> {
    let f: LoanFacility;
    try {
      f = this.facility(id);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = `${f.id} ${fromMs} ${toMs}`;
    const same = this.#reports.get(key);
    if (same) return same;
    if (this.#reports.size >= REPORTS_WAITING_MAX)
      return Promise.reject(LoanErrors.busy(REPORTS_WAITING_MAX));
    const built = this.#reportsDone
      .then(() => this.#buildReport(f, fromMs, toMs))
      .finally(() => this.#reports.delete(key));
    this.#reportsDone = built.catch(() => {});
    this.#reports.set(key, built);
    return built;
  }

  async #buildReport(f: LoanFacility, fromMs: number, toMs: number): Promise<IssuedReport> {
    const { windowFrom, hourFrom } = reportWindow(fromMs, toMs);
    const [seen, hours] = await Promise.all([
      this.#reconcile(f, windowFrom, toMs, REPORT_STEP_MS),
      this.#source.hours(hourFrom, toMs),
    ]);
    return this.#reportInSteps(f, fromMs, toMs, seen, hours);
  }

  /** The report from the replayed window and the hours, at once. */
  #report(f: LoanFacility, fromMs: number, toMs: number, seen: Reconciled, hours: LoanHours): IssuedReport {
    const steps = this.#reportSteps(f, fromMs, toMs, seen, hours);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /** The same, giving the event loop a turn between its parts (the API's path: ~0.5 s of work at 10,000 rigs). */
  async #reportInSteps(
    f: LoanFacility,
    fromMs: number,
    toMs: number,
    seen: Reconciled,
    hours: LoanHours,
  ): Promise<IssuedReport> {
    const steps = this.#reportSteps(f, fromMs, toMs, seen, hours);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The report's parts, a `yield` between them. The chain is read, signed and recorded in one part, so two
   * reports issued at once cannot both follow the same predecessor.
   */
  *#reportSteps(
    f: LoanFacility,
    fromMs: number,
    toMs: number,
    seen: Reconciled,
    hours: LoanHours,
  ): Generator<void, IssuedReport, void> {
    const tz = this.#cfg.loans.timezone;
    const closed = toMs <= this.#now();
    const { windowFrom, hourFrom } = reportWindow(fromMs, toMs);
    const { watcher, samples } = seen;
    const pledged = watcher.pledged();
    const mapped = this.#pledgeRigIds(f.id);
    // Pledge keys are unique: the first state with a key is the only one.
    const stateOf = new Map(pledged.map((s) => [s.key, s]));
    const rigs: RigInput[] = [];
    for (const p of f.pledges) {
      const rigId = stateOf.get(p.key)?.rig_id ?? mapped.get(p.key) ?? p.mac_norm;
      const rollups: RollupRow[] = rigId ? hours.rollups(rigId) : [];
      rigs.push({ pledge: p, rig_id: rigId, rollups });
      if (rigs.length % 500 === 0) yield;
    }
    yield;
    const siteCovered = hours.siteCovered();
    yield;
    // The whole site's energy per hour: the loan carries its pledged rigs' share of site-wide cost lines.
    const siteWh = hours.siteWh();
    yield;
    const costs = loanCostBasis(this.#cfg);
    const m = this.#market;
    let recorded: Parameters<typeof computeCovenants>[0]['recorded'];
    if (this.#cfg.loans.market.length === 0 && m) {
      const hourTo = Math.ceil(toMs / HOUR) * HOUR;
      const heights = m.store.series('height', toMs - 60 * 24 * HOUR, toMs);
      const h = heights.at(-1);
      recorded = {
        series: marketSeries(m.store, hourFrom, hourTo, tz, m.feesValidMs),
        subsidy_sats_at_end: h ? Number(subsidySats(Number(h.value))) : null,
      };
    }
    const result = computeCovenants({
      ...(recorded ? { recorded } : {}),
      facility: f,
      fromMs,
      toMs,
      tz,
      costs,
      siteWh,
      market: this.#cfg.loans.market,
      intervalMs: this.#cfg.poll.interval_ms,
      rigs,
      siteCovered,
      pledged,
      unpledged: watcher.unpledged(),
    });
    yield;
    const body = buildReportBody({
      facility: f,
      fromMs,
      toMs,
      closed,
      tz,
      costs,
      result,
      unpledged: watcher.unpledged(),
      reconciliation_window: { from_ms: windowFrom, to_ms: toMs, samples },
      audit_head_hash: this.audit?.headHash() ?? null,
      site: this.#cfg.site.name,
      ...(this.#source.provenance ? { data_source: this.#source.provenance } : {}),
    });
    yield;
    const prev = this.#prevHash(f.id, fromMs, toMs);
    const doc = signDoc(REPORT_KIND, body, prev, this.key);
    if (closed) this.#record(f.id, fromMs, toMs, doc);
    yield;
    return { doc, bytes: serializeDoc(doc) };
  }

  /** A period already issued keeps its place in the chain; a new one follows the latest issued report. */
  #prevHash(loanId: string, fromMs: number, toMs: number): string | null {
    const known = this.#db
      .prepare('SELECT prev_hash FROM reports WHERE loan_id = ? AND from_ms = ? AND to_ms = ?')
      .get(loanId, fromMs, toMs) as { prev_hash: string | null } | undefined;
    if (known) return known.prev_hash;
    const head = this.#db
      .prepare('SELECT hash FROM reports WHERE loan_id = ? ORDER BY seq DESC LIMIT 1')
      .get(loanId) as { hash: string } | undefined;
    return head?.hash ?? null;
  }

  #record(loanId: string, fromMs: number, toMs: number, doc: SignedDoc): void {
    const exists = this.#db
      .prepare('SELECT 1 FROM reports WHERE loan_id = ? AND from_ms = ? AND to_ms = ?')
      .get(loanId, fromMs, toMs);
    if (exists) return;
    const seq =
      ((
        this.#db.prepare('SELECT MAX(seq) AS s FROM reports WHERE loan_id = ?').get(loanId) as {
          s: number | null;
        }
      ).s ?? 0) + 1;
    this.#db
      .prepare(
        'INSERT INTO reports (loan_id, from_ms, to_ms, hash, prev_hash, issued_ms, seq) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(loanId, fromMs, toMs, doc.hash, doc.prev_hash, this.#now(), seq);
  }

  /** Signed hourly rollups of the pledged rigs, so a lender can recompute any figure (a synchronous source). */
  rollups(id: string, fromMs: number, toMs: number): { doc: SignedDoc; bytes: string } {
    const f = this.facility(id);
    const hours = this.#source.hours(Math.floor(fromMs / HOUR) * HOUR, toMs);
    if (hours instanceof Promise) throw new TypeError('loan data source is asynchronous: use rollupsAsync');
    return this.#rollups(f, fromMs, toMs, hours);
  }

  /** Signed hourly rollups of the pledged rigs, from any source. */
  async rollupsAsync(id: string, fromMs: number, toMs: number): Promise<{ doc: SignedDoc; bytes: string }> {
    const f = this.facility(id);
    const hours = await this.#source.hours(Math.floor(fromMs / HOUR) * HOUR, toMs);
    return this.#rollups(f, fromMs, toMs, hours);
  }

  #rollups(
    f: LoanFacility,
    fromMs: number,
    toMs: number,
    hours: LoanHours,
  ): { doc: SignedDoc; bytes: string } {
    const mapped = this.#pledgeRigIds(f.id);
    const body = {
      loan_id: f.id,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      formula_version: FORMULA_VERSION,
      ...(this.#source.provenance ? { data_source: this.#source.provenance } : {}),
      rigs: f.pledges.map((p) => {
        const rigId = mapped.get(p.key) ?? p.mac_norm;
        return { key: p.key, rig_id: rigId, hours: rigId ? hours.rollups(rigId) : [] };
      }),
    };
    const doc = signDoc('pledged-rollups', JSON.parse(canonicalJson(body)), null, this.key);
    return { doc, bytes: serializeDoc(doc) };
  }

  /** Pledge key → the rig id it was last matched to (kept across restarts in pledge_rigs). */
  #pledgeRigIds(loanId: string): Map<string, string> {
    const rows = this.#db.prepare('SELECT key, rig_id FROM pledge_rigs WHERE loan_id = ?').all(loanId) as {
      key: string;
      rig_id: string;
    }[];
    return new Map(rows.map((r) => [r.key, r.rig_id]));
  }

  /** Summary for GET /v1/loans and /v1/loans/:id. */
  summary(id: string) {
    const f = this.facility(id);
    const live = this.live(id);
    const by: Record<string, number> = {};
    for (const s of live.pledged) by[s.status] = (by[s.status] ?? 0) + 1;
    return {
      id: f.id,
      lender: f.lender,
      principal_usd: f.principal_usd,
      rate_apr: f.rate_apr,
      start: f.start,
      term_months: f.term_months,
      pledged_rigs: f.pledges.length,
      nameplate_ths: f.pledges.reduce((s, p) => s + p.nominal_ths, 0),
      pledges_by_status: by,
      covenants: f.covenants,
    };
  }
}

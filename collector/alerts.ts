/**
 * Alert rules over the sample stream: rig offline, hashrate below a share of nameplate, temperature over a limit,
 * fan failed (in every state that draws power), board missing (not while asleep or curtailed on purpose), power
 * source changed (after a start-up grace period), and a contradictory state (sleeping yet hashing).
 *
 * Time is the samples' own `at_ms` (the collector clock at poll start), never the wall clock, so the engine is
 * deterministic, testable with sequences, and a journal replay cannot race it. Anti-spam:
 * - a condition must hold `min_duration_s` before it is raised;
 * - a raised alert clears only after its condition has been gone `clear_duration_s`;
 * - thresholds have hysteresis (clear below limit − hysteresis_c, above share + hysteresis_share), so a value
 *   hovering at the limit does not flap;
 * - a reading that cannot decide (no temperature reported, rig offline for the fan rule…) leaves the state as it was.
 */
import type { AlertsConfig } from '../config/sections/alerts.js';
import { lookupModel, type ModelSpec } from '../protocols/models.js';
import type { PowerSource, Sample } from '../protocols/sample.js';

export type AlertKind =
  | 'rig_offline'
  | 'hashrate_low'
  | 'temperature_high'
  | 'fan_failed'
  | 'board_missing'
  | 'power_source_changed'
  | 'state_contradiction'
  // Raised by the loans watcher (loans/pledges.ts) through `raiseExternal`.
  | 'pledge_missing'
  | 'pledge_swapped'
  | 'pledge_changed'
  | 'pledge_derated'
  | 'unpledged_rig';

export type AlertSeverity = 'warning' | 'critical';

export interface Alert {
  /** `<site>/<rig>/<kind>`: stable while the condition lasts. */
  id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  site: string;
  rig_id: string;
  /** Configured name of the rig, when it has one (messages use it in place of the id). */
  name: string | null;
  /** Where the rig stands (config `location`), when configured. */
  location: RigPlace | null;
  message: string;
  /** When the condition was first seen (sample time). */
  since_ms: number;
  /** When the alert was raised (sample time): since_ms + at least min_duration_s. */
  raised_ms: number;
  /** The figure that tripped it (H/s, °C, fans, boards), null when not a number. */
  value: number | null;
  threshold: number | null;
}

export interface AlertEvent {
  /** raised / cleared for conditions; `event` for one-off facts (power source changed). */
  type: 'raised' | 'cleared' | 'event';
  at_ms: number;
  alert: Alert;
}

/** A rig's configured name and location, looked up by the address it is polled at. */
export interface RigPlace {
  site: string;
  row: string;
  rack: string;
  slot: number | null;
}
export type DescribeRig = (sample: Sample) => { name: string | null; location: RigPlace | null };

type Verdict =
  | { state: 'bad'; value: number | null; threshold: number | null; message: string }
  | { state: 'good' }
  | { state: 'unknown' };

interface RuleState {
  pendingSince: number | null;
  pending: Extract<Verdict, { state: 'bad' }> | null;
  clearingSince: number | null;
  active: Alert | null;
}

interface RigMemory {
  firstAt: number;
  lastAt: number;
  maxBoards: number;
  /**
   * Only rules with something pending, raised or clearing (null when none): at 10,000 rigs a state per rule
   * and rig held ~6 MB of nulls.
   */
  rules: Map<AlertKind, RuleState> | null;
  powerSource: PowerSource | null;
  powerCandidate: { source: PowerSource; since: number } | null;
}

const SEVERITY: Record<AlertKind, AlertSeverity> = {
  rig_offline: 'critical',
  hashrate_low: 'warning',
  temperature_high: 'critical',
  fan_failed: 'critical',
  board_missing: 'warning',
  power_source_changed: 'warning',
  state_contradiction: 'warning',
  pledge_missing: 'critical',
  pledge_swapped: 'critical',
  pledge_changed: 'warning',
  pledge_derated: 'warning',
  unpledged_rig: 'warning',
};

/** A sleeping rig whose power figure is above this still draws real power (fans must turn). */
const DRAWING_W = 300;

/** Whether the rig is drawing power now, so its fans must turn: any state but a quiet sleep or offline. */
function drawsPower(sample: Sample): boolean {
  if (sample.state === 'offline') return false;
  if (sample.state !== 'sleeping') return true;
  return (sample.hashrate_hs ?? 0) > 0 || (sample.power_w ?? 0) > DRAWING_W;
}

const THS = 1e12;

function fmtThs(hs: number): string {
  return `${(hs / THS).toFixed(1)} TH/s`;
}

/** Where alert events go: the runtime's one engine, read by the API (`active()`) and the MQTT sink (`onEvent`). */
export interface AlertFeed {
  /** Call `fn` with every event the engine emits from now on; returns the unsubscribe function. */
  onEvent(fn: (event: AlertEvent) => void): () => void;
  active(): Alert[];
}

export class AlertEngine implements AlertFeed {
  readonly #cfg: AlertsConfig;
  readonly #listeners = new Set<(event: AlertEvent) => void>();
  readonly #now: () => number;
  /** Site → rig id → memory: keyed by the strings samples already hold (a `site\0id` key was ~75 bytes a rig). */
  readonly #rigs = new Map<string, Map<string, RigMemory>>();

  readonly #lookup: (model: string) => ModelSpec | null;
  readonly #describe: DescribeRig;
  /** Name used in messages for the sample being observed. */
  #label = '';

  /**
   * `models` looks a model up in the model table (protocols/models.ts by default); `alerts.models` in the config
   * overrides it per model.
   */
  constructor(
    config: AlertsConfig,
    options: {
      now?: () => number;
      models?: (model: string) => ModelSpec | null;
      /** Configured name and location of a rig (messages and alerts carry them). */
      describe?: DescribeRig;
    } = {},
  ) {
    this.#cfg = config;
    this.#now = options.now ?? Date.now;
    this.#lookup = options.models ?? lookupModel;
    this.#describe = options.describe ?? (() => ({ name: null, location: null }));
  }

  /** What this rig's model should have: config first, then the model table. */
  #expect(sample: Sample): { fans?: number; boards?: number; nameplate_hs?: number } {
    const model = sample.identity.model;
    if (!model) return {};
    const own = this.#cfg.models[model];
    const spec = this.#lookup(model);
    return {
      fans: own?.fans ?? spec?.fans,
      boards: own?.boards ?? spec?.boards,
      nameplate_hs: own?.nameplate_ths !== undefined ? own.nameplate_ths * THS : spec?.hashrate_hs,
    };
  }

  /** Feed one sample; returns the alerts raised or cleared by it. Older-or-equal samples of a rig are ignored. */
  observe(sample: Sample): AlertEvent[] {
    if (!this.#cfg.enabled) return [];
    let site = this.#rigs.get(sample.site);
    if (!site) {
      site = new Map();
      this.#rigs.set(sample.site, site);
    }
    let rig = site.get(sample.rig_id);
    const t = Number.isFinite(sample.at_ms) ? sample.at_ms : this.#now();
    if (!rig) {
      rig = {
        firstAt: t,
        lastAt: -Infinity,
        maxBoards: 0,
        rules: null,
        powerSource: null,
        powerCandidate: null,
      };
      site.set(sample.rig_id, rig);
    }
    // A replayed or out-of-order sample must not move the state machine backwards or raise twice.
    if (t <= rig.lastAt) return [];
    rig.lastAt = t;

    const events: AlertEvent[] = [];
    const place = this.#describe(sample);
    this.#label = place.name ?? sample.rig_id;
    const up = sample.poll.ok && sample.state !== 'offline';
    const c = this.#cfg;
    if (c.offline.enabled) this.#step(rig, sample, 'rig_offline', t, this.#offline(sample, up), events);
    if (c.hashrate_low.enabled)
      this.#step(rig, sample, 'hashrate_low', t, this.#hashrate(sample, up, rig), events);
    if (c.temperature.enabled)
      this.#step(rig, sample, 'temperature_high', t, this.#temperature(sample, up, rig), events);
    if (c.fan_failed.enabled) this.#step(rig, sample, 'fan_failed', t, this.#fans(sample, up), events);
    if (c.board_missing.enabled)
      this.#step(rig, sample, 'board_missing', t, this.#boards(sample, up, rig), events);
    if (c.state_contradiction.enabled)
      this.#step(rig, sample, 'state_contradiction', t, this.#contradiction(sample, up), events);
    if (c.power_source_changed.enabled) this.#powerSource(rig, sample, t, events);
    for (const e of events) {
      // Each alert carries the configured name and place, as the rig stands now.
      e.alert.name = place.name;
      e.alert.location = place.location;
    }
    for (const ev of events) for (const fn of this.#listeners) fn(ev);
    return events;
  }

  onEvent(fn: (event: AlertEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => {
      this.#listeners.delete(fn);
    };
  }

  /**
   * A condition judged elsewhere (pledged-rig reconciliation): raise it under `alert.id` (severity from its
   * kind), or with `alert` null clear it. Returns the event, or null when nothing changed.
   */
  raiseExternal(
    id: string,
    alert:
      | (Omit<Alert, 'id' | 'severity' | 'name' | 'location'> & Partial<Pick<Alert, 'name' | 'location'>>)
      | null,
    atMs: number,
  ): AlertEvent | null {
    const ev = this.#externalChange(id, alert, atMs);
    // Listeners (the MQTT sink, the alert log) hear external alerts like the engine's own.
    if (ev) for (const fn of this.#listeners) fn(ev);
    return ev;
  }

  #externalChange(
    id: string,
    alert:
      | (Omit<Alert, 'id' | 'severity' | 'name' | 'location'> & Partial<Pick<Alert, 'name' | 'location'>>)
      | null,
    atMs: number,
  ): AlertEvent | null {
    const before = this.#external.get(id);
    if (!alert) {
      if (!before) return null;
      this.#external.delete(id);
      return { type: 'cleared', at_ms: atMs, alert: before };
    }
    const next: Alert = {
      name: null,
      location: null,
      ...alert,
      id,
      severity: SEVERITY[alert.kind],
    };
    if (before && before.kind === next.kind && before.message === next.message) return null;
    this.#external.set(id, next);
    return { type: 'raised', at_ms: atMs, alert: next };
  }

  readonly #external = new Map<string, Alert>();

  /** Alerts currently raised, oldest first. */
  active(): Alert[] {
    const out: Alert[] = [...this.#external.values()];
    for (const site of this.#rigs.values())
      for (const rig of site.values())
        for (const r of rig.rules?.values() ?? []) if (r.active) out.push(r.active);
    return out.sort((a, b) => a.raised_ms - b.raised_ms || a.id.localeCompare(b.id));
  }

  /** Forget a rig removed from the configuration (its active alerts go without a cleared event). */
  forget(site: string, rigId: string): void {
    const rigs = this.#rigs.get(site);
    rigs?.delete(rigId);
    if (rigs?.size === 0) this.#rigs.delete(site);
  }

  #isActive(rig: RigMemory, kind: AlertKind): boolean {
    return rig.rules?.get(kind)?.active != null;
  }

  #step(rig: RigMemory, sample: Sample, kind: AlertKind, t: number, v: Verdict, events: AlertEvent[]): void {
    let st = rig.rules?.get(kind);
    if (!st) {
      // Nothing pending, raised or clearing: only a bad verdict starts something to remember.
      if (v.state !== 'bad') return;
      st = { pendingSince: null, pending: null, clearingSince: null, active: null };
      rig.rules ??= new Map();
      rig.rules.set(kind, st);
    }
    if (v.state === 'unknown') return;
    const minMs = this.#cfg.min_duration_s * 1000;
    const clearMs = this.#cfg.clear_duration_s * 1000;
    if (!st.active) {
      if (v.state === 'good') {
        this.#forget(rig, kind);
        return;
      }
      st.pendingSince ??= t;
      st.pending = v;
      if (t - st.pendingSince >= minMs) {
        st.active = {
          id: `${sample.site}/${sample.rig_id}/${kind}`,
          kind,
          severity: SEVERITY[kind],
          site: sample.site,
          rig_id: sample.rig_id,
          name: null,
          location: null,
          message: v.message,
          since_ms: st.pendingSince,
          raised_ms: t,
          value: v.value,
          threshold: v.threshold,
        };
        st.pendingSince = null;
        st.pending = null;
        st.clearingSince = null;
        events.push({ type: 'raised', at_ms: t, alert: st.active });
      }
      return;
    }
    if (v.state === 'bad') {
      st.clearingSince = null;
      // Keep the latest figure on the live alert.
      st.active = { ...st.active, value: v.value, message: v.message };
      return;
    }
    st.clearingSince ??= t;
    if (t - st.clearingSince >= clearMs) {
      events.push({ type: 'cleared', at_ms: t, alert: st.active });
      this.#forget(rig, kind);
    }
  }

  /** The rule is back to nothing pending, raised or clearing. */
  #forget(rig: RigMemory, kind: AlertKind): void {
    rig.rules?.delete(kind);
    if (rig.rules?.size === 0) rig.rules = null;
  }

  #offline(sample: Sample, up: boolean): Verdict {
    if (up) return { state: 'good' };
    const why = sample.poll.error_code ? ` (${sample.poll.error_code})` : '';
    return { state: 'bad', value: null, threshold: null, message: `${this.#label} does not answer${why}` };
  }

  #nameplate(sample: Sample): number | null {
    if (sample.hashrate_nominal_hs !== null && sample.hashrate_nominal_hs > 0)
      return sample.hashrate_nominal_hs;
    const np = this.#expect(sample).nameplate_hs;
    return np !== undefined && np > 0 ? np : null;
  }

  #hashrate(sample: Sample, up: boolean, rig: RigMemory): Verdict {
    if (!up || sample.state === 'ramping') return { state: 'unknown' };
    // Sleeping or curtailed on purpose is not a fault.
    if (sample.state === 'sleeping' || sample.state === 'curtailed') return { state: 'good' };
    const np = this.#nameplate(sample);
    const hr = sample.hashrate_hs;
    if (np === null || hr === null) return { state: 'unknown' };
    const { below_share, hysteresis_share } = this.#cfg.hashrate_low;
    const limit = this.#isActive(rig, 'hashrate_low')
      ? (below_share + hysteresis_share) * np
      : below_share * np;
    if (hr >= limit) return { state: 'good' };
    return {
      state: 'bad',
      value: hr,
      threshold: below_share * np,
      message: `${this.#label} hashes ${fmtThs(hr)}, below ${Math.round(below_share * 100)} % of nameplate ${fmtThs(np)}`,
    };
  }

  #temperature(sample: Sample, up: boolean, rig: RigMemory): Verdict {
    if (!up) return { state: 'unknown' };
    const chip = maxOf(sample.temp_chip_max_c, ...sample.boards.map((b) => b.temp_chip_c));
    const board = maxOf(sample.temp_board_max_c, ...sample.boards.map((b) => b.temp_board_c));
    if (chip === null && board === null) return { state: 'unknown' };
    const { chip_limit_c, board_limit_c, hysteresis_c } = this.#cfg.temperature;
    const slack = this.#isActive(rig, 'temperature_high') ? hysteresis_c : 0;
    if (chip !== null && chip > chip_limit_c - slack) {
      return {
        state: 'bad',
        value: chip,
        threshold: chip_limit_c,
        message: `${this.#label} chip temperature ${chip} °C over ${chip_limit_c} °C`,
      };
    }
    if (board !== null && board > board_limit_c - slack) {
      return {
        state: 'bad',
        value: board,
        threshold: board_limit_c,
        message: `${this.#label} board temperature ${board} °C over ${board_limit_c} °C`,
      };
    }
    return { state: 'good' };
  }

  #fans(sample: Sample, up: boolean): Verdict {
    if (!up) return { state: 'unknown' };
    const expected = this.#expect(sample).fans;
    const min = this.#cfg.fan_failed.min_rpm;
    const known = sample.fans.filter((f) => f.rpm !== null);
    const spinning = known.filter((f) => f.rpm! >= min).length;
    const hashing = drawsPower(sample);
    if (expected !== undefined && hashing && spinning < expected) {
      return {
        state: 'bad',
        value: spinning,
        threshold: expected,
        message: `${this.#label} has ${spinning} of ${expected} fans spinning`,
      };
    }
    if (known.length === 0) return expected === undefined ? { state: 'unknown' } : { state: 'good' };
    // A stopped fan while hashing (immersion models are declared with fans: 0 and never hit this).
    const stopped = known.filter((f) => f.rpm! < min);
    if (hashing && expected !== 0 && stopped.length > 0) {
      return {
        state: 'bad',
        value: spinning,
        threshold: expected ?? known.length,
        message: `${this.#label} fan ${stopped.map((f) => f.index).join(', ')} stopped (< ${min} rpm) while ${sample.state}`,
      };
    }
    return { state: 'good' };
  }

  #boards(sample: Sample, up: boolean, rig: RigMemory): Verdict {
    // A rig asleep or curtailed on purpose may power boards down: that says nothing about missing boards.
    if (!up || sample.state === 'sleeping' || sample.state === 'curtailed') return { state: 'unknown' };
    // No board list at all from a reply rigtel only partly understood says nothing about the boards.
    if (sample.boards.length === 0 && sample.support !== 'full') return { state: 'unknown' };
    const present = sample.boards.filter((b) => !(b.chips === 0 && !b.hashrate_hs)).length;
    const declared = this.#expect(sample).boards;
    // Without a known model, the most boards this rig ever showed is what it should have.
    rig.maxBoards = Math.max(rig.maxBoards, present);
    const expected = declared ?? (rig.maxBoards || null);
    if (expected === null) return { state: 'unknown' };
    if (present >= expected) return { state: 'good' };
    return {
      state: 'bad',
      value: present,
      threshold: expected,
      message: `${this.#label} shows ${present} of ${expected} hash boards`,
    };
  }

  /** A rig that says it sleeps while it hashes (or draws mining power) is lying about something. */
  #contradiction(sample: Sample, up: boolean): Verdict {
    if (!up) return { state: 'unknown' };
    if (sample.state !== 'sleeping') return { state: 'good' };
    const hr = sample.hashrate_hs;
    if (hr === null) return { state: 'unknown' };
    const np = this.#nameplate(sample);
    // Below 5 % of nameplate (or 1 TH/s without one) is leftover counting, not hashing.
    const limit = np !== null ? np * 0.05 : THS;
    if (hr <= limit) return { state: 'good' };
    return {
      state: 'bad',
      value: hr,
      threshold: limit,
      message: `${this.#label} reports sleeping yet hashes ${fmtThs(hr)}: its state or its figures are wrong`,
    };
  }

  #powerSource(rig: RigMemory, sample: Sample, t: number, events: AlertEvent[]): void {
    const src = sample.power_source;
    if (src === null) return;
    // At start-up the PDU's first poll may land after the first miner polls: settle silently for a grace period.
    if (t - rig.firstAt < this.#cfg.power_source_changed.startup_grace_s * 1000) {
      rig.powerSource = src;
      rig.powerCandidate = null;
      return;
    }
    if (rig.powerSource === null) {
      rig.powerSource = src;
      return;
    }
    if (src === rig.powerSource) {
      rig.powerCandidate = null;
      return;
    }
    // The new source must last min_duration_s, so a PDU reading that is stale for one poll does not report twice.
    if (!rig.powerCandidate || rig.powerCandidate.source !== src)
      rig.powerCandidate = { source: src, since: t };
    if (t - rig.powerCandidate.since < this.#cfg.min_duration_s * 1000) return;
    const from = rig.powerSource;
    rig.powerSource = src;
    rig.powerCandidate = null;
    events.push({
      type: 'event',
      at_ms: t,
      alert: {
        id: `${sample.site}/${sample.rig_id}/power_source_changed`,
        kind: 'power_source_changed',
        severity: SEVERITY.power_source_changed,
        site: sample.site,
        rig_id: sample.rig_id,
        name: null,
        location: null,
        message: `${this.#label} power now comes from ${src} (was ${from})`,
        since_ms: t,
        raised_ms: t,
        value: null,
        threshold: null,
      },
    });
  }
}

function maxOf(...values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && Number.isFinite(v) && (m === null || v > m)) m = v;
  return m;
}

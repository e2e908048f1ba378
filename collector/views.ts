/**
 * What the API reads from the collector. The collector implements these; the API depends only on them, so
 * it can be served from another source (MQTT, InfluxDB) in multi-collector mode.
 */
import type { RigState, Sample } from '../protocols/sample.js';
import type { SchedulerCounters } from './scheduler.js';
import type { SinkStatus } from './sinks/sink.js';

/** Address keys, so the API finds a rig by address exactly as the collector keys it. */
export { type Address, addressKey, normalizeAddress } from './address.js';
/** The collector's other read-only shapes the API serves; api/ imports them from here and nowhere else. */
export type { Alert } from './alerts.js';
/**
 * Economics and market reads the API serves: computations over the fleet view and the stores the collector
 * hands the API (`ApiDeps.economics`).
 */
export { liveEconomics } from './economics/live.js';
export { economicsReport, type Group } from './economics/report.js';
export type { EconomicsDeps } from './economics/wiring.js';
export type { JournalPressure } from './journal.js';
export { EconomicsApiErrors } from './market/errors.js';
export { latestMarket } from './market/inputs.js';
export type { SinkStatus } from './sinks/sink.js';
export type { DeviceStatus } from './snmp-poller.js';

export interface RigStatus {
  rig_id: string;
  /** Configured name, if any. */
  name: string | null;
  address: string;
  state: RigState;
  /** The latest successful sample while the rig is up; null once it is offline (its last values are history). */
  current: Sample | null;
  last_seen_ms: number | null;
  last_poll_ms: number | null;
  last_error: { code: string; message: string } | null;
  consecutive_failures: number;
  next_poll_ms: number | null;
  /**
   * Set by a standalone API reading state from MQTT: the collector that polls this rig went away (it announced
   * offline, or sent nothing for a while), so `current` is its last known state, not a fresh one.
   */
  stale?: boolean;
}

export interface FleetView {
  /** Every rig. `current.raw` may be left null here (the collector's fleet does): `get` gives a rig's raw reply. */
  list(): RigStatus[];
  /** Changes whenever the fleet does (a sample arrived, a rig was added); lets readers cache what they derive. */
  version?(): number;
  /** By rig id, configured name or address. */
  get(idOrAddress: string): RigStatus | undefined;
}

export interface HistoryPoint {
  /** Start of the bucket, ms since epoch. */
  t_ms: number;
  hashrate_hs: number | null;
  power_w: number | null;
  /** Weakest power source used in the bucket. */
  power_source: 'pdu' | 'miner' | 'estimate' | null;
  temp_chip_max_c: number | null;
  energy_wh: number | null;
  polls: number;
  polls_ok: number;
  /** Seconds the rig was seen mining in the bucket. */
  mining_s: number;
}

export interface HistoryQuery {
  rigId: string;
  fromMs: number;
  toMs: number;
  stepS: number;
}

/** The embedded store's synchronous reads (`rigtel run`). */
export interface HistoryStore {
  /** Buckets of `stepS` seconds from `fromMs` to `toMs`; a bucket with no poll is returned with polls 0 and nulls. */
  history(query: HistoryQuery): HistoryPoint[];
  /** Distinct rig ids the store has seen (for rigs no longer configured). */
  rigIds(): string[];
}

/**
 * What the history route awaits: the embedded store (wrapped by `historySource`) or a database queried over the
 * network (InfluxDB in a standalone `rigtel api`). Failures reject with a named error.
 */
export interface HistorySource {
  /** Same buckets, same rules as `HistoryStore.history`. */
  history(query: HistoryQuery): Promise<HistoryPoint[]>;
  /** Whether history is kept under this exact rig id (a rig no longer configured). */
  hasRig(rigId: string): Promise<boolean>;
}

/** The route's one way in: a synchronous store is wrapped; an asynchronous source is used as it is. */
export function historySource(h: HistoryStore | HistorySource): HistorySource {
  if ('hasRig' in h) return h;
  return {
    history: async (query) => h.history(query),
    hasRig: async (rigId) => h.rigIds().includes(rigId),
  };
}

export interface HealthView {
  started_ms: number;
  sinks(): SinkStatus[];
  /** Rigs configured, up, and the age of the newest sample. */
  polling(): {
    rigs: number;
    up: number;
    last_sweep_ms: number | null;
    last_sweep_duration_ms: number | null;
    /** Scheduler counters: slots due, polls started, late, skipped by reason (absent when not polling here). */
    polls?: SchedulerCounters;
  };
}

import type {
  Alert,
  DeviceStatus,
  EconomicsDeps,
  FleetView,
  HealthView,
  HistorySource,
  HistoryStore,
  JournalPressure,
} from '../collector/views.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/log.js';
import type { LoanService } from '../loans/service.js';
import type { Sample } from '../protocols/sample.js';
import type { TokenStore } from './tokens.js';

export type { JournalPressure } from '../collector/views.js';

export interface ApiDeps {
  fleet: FleetView;
  /** The embedded store (`rigtel run`) or InfluxDB (`rigtel api`). */
  history: HistoryStore | HistorySource;
  /** `journal` is optional: HealthView does not carry it, `rigtel run` adds it from the collector's journal. */
  health: HealthView & { journal?: () => JournalPressure | null };
  config: Config;
  log?: Logger;
  /** Alerts active now, when this process runs an alert engine. */
  alerts?: () => Alert[];
  /** SNMP device status (PDUs, sensors, switches), when any are polled. */
  powerDevices?: () => DeviceStatus[];
  /** Subscribe to the collector's samples as they land in the live fleet (feeds `GET /v1/events`). */
  onSample?: (fn: (sample: Sample) => void) => () => void;
  /** Poll one rig now, outside its schedule (`POST /v1/rigs/:id/poll`); resolves with the new sample. */
  pollNow?: (rigId: string) => Promise<Sample | null>;
  /** API tokens; without it (or with none active) the API is open to loopback clients only. */
  tokens?: TokenStore;
  /** Loans, reports and the signing key, when the config has a loans section. */
  loans?: LoanService;
  /**
   * Set when the config has loans this process cannot serve (a standalone `rigtel api` without sinks.influx):
   * the loan routes and /v1/keys answer RT_ERR_LOAN_UNAVAILABLE (501) instead of not existing.
   */
  loansUnavailable?: boolean;
  /** Market store, providers and economics settings, when this process runs the collector. */
  economics?: EconomicsDeps;
  /** Clock for health judgements; tests pass a fixed one. */
  now?: () => number;
}

import type { Logger } from 'pino';
import type { Alert } from '../collector/alerts.js';
import type { EconomicsDeps } from '../collector/economics/wiring.js';
import type { JournalPressure } from '../collector/journal.js';
import type { DeviceStatus } from '../collector/snmp-poller.js';
import type { FleetView, HealthView, HistoryStore } from '../collector/views.js';
import type { Config } from '../config/schema.js';
import type { LoanService } from '../loans/service.js';
import type { TokenStore } from './tokens.js';

export type { JournalPressure } from '../collector/journal.js';

export interface ApiDeps {
  fleet: FleetView;
  history: HistoryStore;
  /** `journal` is optional: HealthView does not carry it, `rigtel run` adds it from the collector's journal. */
  health: HealthView & { journal?: () => JournalPressure | null };
  config: Config;
  log?: Logger;
  /** Alerts active now, when this process runs an alert engine. */
  alerts?: () => Alert[];
  /** SNMP device status (PDUs, sensors, switches), when any are polled. */
  powerDevices?: () => DeviceStatus[];
  /** API tokens; without it (or with none active) the API is open to loopback clients only. */
  tokens?: TokenStore;
  /** Loans, reports and the signing key, when the config has a loans section. */
  loans?: LoanService;
  /** Market store, providers and economics settings, when this process runs the collector. */
  economics?: EconomicsDeps;
  /** Clock for health judgements; tests pass a fixed one. */
  now?: () => number;
}

import type { Logger } from 'pino';
import type { FleetView, HealthView, HistoryStore } from '../collector/views.js';
import type { Config } from '../config/schema.js';

/** Journal pressure, when the collector exposes it (optional: not part of the HealthView contract yet). */
export interface JournalPressure {
  bytes: number;
  max_bytes: number;
  /** Entries not yet acknowledged by the slowest sink. */
  pending_samples: number;
  dropped_samples: number;
}

export interface ApiDeps {
  fleet: FleetView;
  history: HistoryStore;
  health: HealthView & { journal?: () => JournalPressure | null };
  config: Config;
  log?: Logger;
  /** Clock for health judgements; tests pass a fixed one. */
  now?: () => number;
}

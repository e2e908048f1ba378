import type { Logger } from 'pino';
import type { JournalPressure } from '../collector/journal.js';
import type { FleetView, HealthView, HistoryStore } from '../collector/views.js';
import type { Config } from '../config/schema.js';

export type { JournalPressure } from '../collector/journal.js';

export interface ApiDeps {
  fleet: FleetView;
  history: HistoryStore;
  /** `journal` is optional: HealthView does not carry it, `rigtel run` adds it from the collector's journal. */
  health: HealthView & { journal?: () => JournalPressure | null };
  config: Config;
  log?: Logger;
  /** Clock for health judgements; tests pass a fixed one. */
  now?: () => number;
}

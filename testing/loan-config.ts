/**
 * A config with one loan facility (`L1`) over fixed market inputs, for tests of the loan report: the terms,
 * collateral tiers and covenants the replay tests share. `extra` adds or replaces top-level sections (sinks).
 */
import { validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export function loanTestConfig(opts: {
  dir: string;
  site: string;
  intervalMs: number;
  pledges: readonly Record<string, unknown>[];
  covenants: Record<string, { threshold: number }>;
  extra?: Record<string, unknown>;
}): Config {
  return validateConfig({
    site: { name: opts.site },
    storage: { dir: opts.dir, journal_fsync: 'off' },
    emulator: { mode: 'off' },
    poll: { interval_ms: opts.intervalMs, poll_deadline_ms: 10_000 },
    economics: { pool_fee: 0.02, tariff: { usd_per_kwh: 0.05 } },
    ...opts.extra,
    loans: {
      timezone: 'UTC',
      market: [
        {
          at: '2026-11-01T00:00:00Z',
          btc_usd: 95_000,
          difficulty: 150e12,
          fees_btc_per_block: 0.1,
          source: 't',
        },
      ],
      facilities: [
        {
          id: 'L1',
          lender: 'Test',
          principal_usd: 100_000,
          rate_apr: 0.1,
          start: '2026-10-01',
          derate_polls: 3,
          pledges: opts.pledges,
          collateral: {
            tiers: [{ label: 'all', max_j_per_th: null, usd_per_th: 8 }],
            marked_on: '2026-11-01',
            source: 't',
          },
          covenants: opts.covenants,
        },
      ],
    },
  });
}

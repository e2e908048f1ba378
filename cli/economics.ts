/**
 * `rigtel economics --from --to [--group]`: the economics report from the store on disk (no running collector
 * needed), as a table, JSON or CSV. `rigtel market import FILE`: record market values from a file.
 */
import { readFileSync } from 'node:fs';
import { normalizeAddress } from '../collector/address.js';
import { economicsReport, type Figures, type Group } from '../collector/economics/report.js';
import {
  configuredRack,
  economicsSettings,
  rackByPlace,
  racksByAddress,
} from '../collector/economics/wiring.js';
import { IdentityMap } from '../collector/identity.js';
import { parseMarketImport } from '../collector/market/import.js';
import { MarketStore } from '../collector/market/store.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { loadConfig } from '../config/load.js';
import { errorMessage } from '../lib/errors.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors } from './errors.js';
import type { Io } from './io.js';

export const economicsFlags: FlagSpecs = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description: 'config file (storage.dir, site.timezone, economics)',
  },
  from: { type: 'string', value: 'TIME', description: 'start: ISO-8601 or ms (default: 24 h before --to)' },
  to: { type: 'string', value: 'TIME', description: 'end: ISO-8601 or ms (default: now)' },
  group: { type: 'string', value: 'G', description: 'fleet (default), rig, model or rack' },
  json: { type: 'boolean', description: 'print the whole report as JSON' },
  csv: { type: 'boolean', description: 'print one CSV row per group (or the fleet)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const economicsUsage = `usage: rigtel economics [--from TIME] [--to TIME] [--group G] [--json|--csv] [--config FILE]

Revenue expected from measured hashrate, energy by power source, costs, cost per BTC (energy only, cash,
all-in), J/TH and break-even figures over a period, read from the store in storage.dir and the recorded market
values (market.sqlite). Money is printed in dollars rounded half to even to the cent (JSON keeps micro-dollars).
Prints what is missing when the period is incomplete.

${flagHelp(economicsFlags)}
`;

const importFlags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file (storage.dir)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const marketUsage = `usage: rigtel market import FILE [--config FILE]

Record market values from a CSV or JSON file into market.sqlite in storage.dir, for sites without internet.
CSV header: time,kind,value[,basis][,source]; kinds: difficulty, height, fees_btc_per_block, fee_share,
price_usd. One bad row and nothing is recorded (exit 1 naming the line).

${flagHelp(importFlags)}
`;

function time(flag: string, v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = String(v).trim();
  const ms = /^\d{1,15}$/.test(t) ? Number(t) : Date.parse(t);
  if (!Number.isFinite(ms))
    throw CliErrors.usage(`--${flag}: expected ISO-8601 or ms since epoch, got '${t}'`);
  return ms;
}

/** Micro-dollars → dollars with cents, rounded half to even. */
export function dollars(micro: number | null | undefined): string {
  if (micro === null || micro === undefined) return '-';
  const cents = micro / 10_000;
  const floor = Math.floor(cents);
  const diff = cents - floor;
  const r = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return (r / 100).toFixed(2);
}

const COLUMNS: [string, (f: Figures) => string][] = [
  ['rigs', (f) => String(f.rigs)],
  ['avg_ths', (f) => (f.hashrate_avg_ths ?? '-').toString()],
  ['btc', (f) => (f.revenue.expected_sats / 1e8).toFixed(8)],
  ['revenue_usd', (f) => dollars(f.revenue.expected_usd_micro)],
  ['net_usd', (f) => dollars(f.revenue.net_usd_micro)],
  ['kwh', (f) => f.energy.kwh.toFixed(3)],
  ['pdu_share', (f) => (f.energy.share_by_source.pdu ?? '-').toString()],
  ['energy_usd', (f) => dollars(f.costs_usd_micro?.energy)],
  ['cash_usd', (f) => dollars(f.costs_usd_micro?.cash)],
  ['all_in_usd', (f) => dollars(f.costs_usd_micro?.all_in)],
  ['usd_per_btc_energy', (f) => dollars(f.cost_per_btc_usd_micro?.energy_only)],
  ['usd_per_btc_cash', (f) => dollars(f.cost_per_btc_usd_micro?.cash)],
  ['usd_per_btc_all_in', (f) => dollars(f.cost_per_btc_usd_micro?.all_in)],
  ['j_per_th', (f) => (f.j_per_th ?? '-').toString()],
  [
    'break_even_usd_kwh',
    (f) =>
      f.break_even.power_usd_per_kwh_micro === null
        ? '-'
        : (f.break_even.power_usd_per_kwh_micro / 1e6).toFixed(4),
  ],
];

export async function economicsCommand(argv: readonly string[], io: Io): Promise<number> {
  const { positionals, flags } = parseArgs(argv, economicsFlags);
  if (flags['help']) {
    io.out(economicsUsage);
    return 0;
  }
  if (positionals.length) throw CliErrors.usage(`economics takes no arguments (got '${positionals[0]}')`);
  if (flags['json'] && flags['csv']) throw CliErrors.usage('give --json or --csv, not both');
  const group = (flags['group'] ?? 'fleet') as string;
  if (!['fleet', 'rig', 'model', 'rack'].includes(group))
    throw CliErrors.usage(`--group: expected fleet, rig, model or rack`);
  const config = loadConfig(flags['config'] as string | undefined, io.env);
  const now = Date.now();
  const to = time('to', flags['to']) ?? now;
  const from = time('from', flags['from']) ?? to - 86_400_000;
  if (from >= to) throw CliErrors.usage('--from must be before --to');
  const store = EmbeddedStore.open(config.storage.dir, {
    rawRetentionHours: config.storage.raw_retention_hours,
    rollupRetentionDays: config.storage.rollup_retention_days,
    intervalMs: config.poll.interval_ms,
    backoffMaxMs: config.poll.backoff_max_ms,
  });
  const market = MarketStore.open(config.storage.dir);
  try {
    // A rig's id is mostly its MAC, not its configured name or address: the identity aliases the collector
    // stored say which id each configured rig has had.
    const identity = new IdentityMap(store.db, () => {});
    const racks = racksByAddress(config);
    const rackById = new Map<string, string>();
    for (const r of config.rigs) {
      const rack = configuredRack(r);
      if (rack === undefined) continue;
      const address = normalizeAddress(r.address);
      const id =
        (r.name ? identity.lookup(`name:${r.name}`) : identity.lookup(`addr:${address}`)) ??
        r.name ??
        address;
      rackById.set(id, rack);
    }
    const report = economicsReport({
      rollups: store,
      market,
      settings: economicsSettings(config, config.poll.interval_ms),
      // Offline: the model each rig reported in its last stored sample of the period.
      // Rack: where the id was polled in the period (a swapped-out id is no configured rig's current id any
      // more), else (a store from before `rig_places`) the configured rig whose current id it is.
      meta: (rigId, fromMs, toMs) => ({
        model: store.modelBefore(rigId, to),
        rack:
          (fromMs !== undefined && toMs !== undefined
            ? rackByPlace(store, racks, rigId, fromMs, toMs)
            : undefined) ??
          rackById.get(rigId) ??
          null,
      }),
      fromMs: from,
      toMs: to,
      group: group as Group,
      nowMs: now,
    });
    if (flags['json']) {
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const rows: [string, Figures][] =
      report.group === 'fleet' ? [['fleet', report.totals]] : report.groups.map((g) => [g.key, g]);
    if (flags['csv']) {
      io.out(`${['group', ...COLUMNS.map(([c]) => c), 'complete'].join(',')}\n`);
      for (const [key, f] of rows) {
        io.out(`${[JSON.stringify(key), ...COLUMNS.map(([, v]) => v(f)), report.complete].join(',')}\n`);
      }
      return 0;
    }
    const table = [
      ['group', ...COLUMNS.map(([c]) => c)],
      ...rows.map(([k, f]) => [k, ...COLUMNS.map(([, v]) => v(f))]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    io.out(
      `economics ${new Date(from).toISOString()} → ${new Date(to).toISOString()} (${report.timezone}), ${report.payout_scheme}, pool fee ${report.totals.revenue.pool_fee}\n`,
    );
    for (const r of table)
      io.out(`${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);
    if (!report.complete) {
      io.out(`incomplete (${report.incomplete.length} reasons):\n`);
      for (const r of report.incomplete.slice(0, 20)) io.out(`  ${JSON.stringify(r)}\n`);
    }
    io.out(`rounding: ${report.rounding}\n`);
    return 0;
  } finally {
    market.close();
    await store.close();
  }
}

export async function marketCommand(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(marketUsage);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'import') throw CliErrors.usage(`unknown market command '${sub}'`);
  const { positionals, flags } = parseArgs(rest, importFlags);
  if (flags['help']) {
    io.out(marketUsage);
    return 0;
  }
  if (positionals.length !== 1) throw CliErrors.usage('market import needs exactly one FILE');
  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const { MarketErrors } = await import('../collector/market/errors.js');
    throw MarketErrors.importFile(file, errorMessage(err));
  }
  const values = parseMarketImport(file, text, Date.now());
  const config = loadConfig(flags['config'] as string | undefined, io.env);
  const store = MarketStore.open(config.storage.dir);
  try {
    store.record(values);
  } finally {
    store.close();
  }
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v.kind, (counts.get(v.kind) ?? 0) + 1);
  io.out(
    `recorded ${values.length} values into ${store.file}: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}\n`,
  );
  return 0;
}

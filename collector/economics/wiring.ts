/**
 * Economics from config: the settings the report reads, the market service with its providers, and what the
 * API needs (the store's rollups, rig model and rack).
 */
import type { Config, RigConfig } from '../../config/schema.js';
import { normalizeAddress } from '../address.js';
import type { Logger } from '../journal.js';
import {
  bitcoindProvider,
  DEMO_MARKET,
  fixedProvider,
  mempoolProvider,
  type Provider,
} from '../market/providers.js';
import { MarketService } from '../market/service.js';
import { MarketStore } from '../market/store.js';
import type { FleetView } from '../views.js';
import type { EconomicsSettings, RigMeta, RollupLoader, RollupSource } from './report.js';

export interface EconomicsDeps {
  market: MarketService;
  /** The embedded store (`rigtel run`), or a loader that reads them from InfluxDB first (`rigtel api`). */
  rollups: RollupSource | RollupLoader;
  settings: EconomicsSettings;
  meta: (rigId: string, fromMs?: number, toMs?: number) => RigMeta;
  /** Poll counts: what /metrics and live read for the fleet. */
  fleet?: FleetView;
}

/** The built-in demo's tariff when none is configured: flat $0.05/kWh (the demo shows cost figures). */
export const DEMO_TARIFF = { usd_per_kwh: 0.05, windows: [], demand_usd_per_kw_month: 0 };

export function economicsSettings(config: Config, intervalMs: number, demo = false): EconomicsSettings {
  const e = config.economics;
  return {
    timezone: config.site.timezone,
    pool_fee: e.pool_fee,
    payout_scheme: e.payout_scheme,
    tariff: e.tariff ?? (demo ? DEMO_TARIFF : null),
    hosting_usd_per_kwh: e.hosting_usd_per_kwh,
    hosting_usd_per_rig_month: e.hosting_usd_per_rig_month,
    other_opex_usd_per_month: e.other_opex_usd_per_month,
    depreciation_usd_per_rig_month: e.depreciation_usd_per_rig_month,
    depreciation_usd_per_model_month: e.depreciation_usd_per_model_month,
    curtailment_credits: e.curtailment_credits,
    fees_valid_ms: config.market.fees_valid_ms,
    interval_ms: intervalMs,
  };
}

/**
 * Providers from config: fixed values first (recorded on every refresh), then live providers. With `demo`
 * and nothing configured, the built-in demo values are recorded under source `demo` (no outside call).
 */
export function providersFromConfig(config: Config, demo = false): Provider[] {
  const out: Provider[] = [];
  const m = config.market;
  if (m.fixed) out.push(fixedProvider('config', m.fixed));
  for (const p of m.providers) {
    if (p.kind === 'mempool') out.push(mempoolProvider(p));
    else
      out.push(
        bitcoindProvider({
          name: p.name,
          url: p.url,
          username: p.username,
          password: p.password,
          timeout_ms: p.timeout_ms,
          refresh_ms: p.refresh_ms,
        }),
      );
  }
  if (demo && out.length === 0) out.push(fixedProvider('demo', DEMO_MARKET));
  return out;
}

export function marketFromConfig(
  config: Config,
  opts: { log?: Logger; now?: () => number; demo?: boolean } = {},
): MarketService {
  const store = MarketStore.open(config.storage.dir);
  return new MarketService(store, providersFromConfig(config, opts.demo), {
    tz: config.site.timezone,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/**
 * The rack a configured rig is grouped under in economics: its `rack` tag, else where it stands (`location`,
 * as `row/rack`: rack names repeat from row to row, and a site with several buildings prefixes the building).
 * Undefined when the config says neither.
 */
export function configuredRack(rig: RigConfig): string | undefined {
  const tag = rig.tags['rack'];
  if (tag !== undefined) return tag;
  const at = rig.location;
  if (!at) return undefined;
  return at.site === undefined ? `${at.row}/${at.rack}` : `${at.site}/${at.row}/${at.rack}`;
}

/** Where the store says a rig id was polled over a period (the embedded store's `rig_places`). */
export interface PlaceHistory {
  placeIn(rigId: string, fromMs: number, toMs: number): string | null;
}

/** Configured rigs with a rack, by their address as polled (`10.0.0.3` is `10.0.0.3:4028` there). */
export function racksByAddress(config: Config): Map<string, string> {
  // Only the rigs with a rack: a rig without one reads null either way (0.46 MB at 10,000 untagged rigs).
  const out = new Map<string, string>();
  for (const r of config.rigs) {
    const rack = configuredRack(r);
    if (rack !== undefined) out.set(normalizeAddress(r.address), rack);
  }
  return out;
}

/**
 * The rack of a rig id over a period from where it was polled then: the configured rig at its latest place in
 * the period (`PlaceHistory.placeIn`). Undefined when the store has no place for it or the place is not a
 * configured address with a rack: the caller then falls back to the rig's current configuration.
 */
export function rackByPlace(
  places: PlaceHistory,
  racks: ReadonlyMap<string, string>,
  rigId: string,
  fromMs: number,
  toMs: number,
): string | undefined {
  const address = places.placeIn(rigId, fromMs, toMs);
  return address === null ? undefined : racks.get(address);
}

/**
 * Rig model from its latest sample; rack from where the rig id was polled during the period when the store
 * keeps that (`places`: a rig id no longer live, e.g. hardware swapped at its address, is not in the fleet),
 * else from the live rig's configured rig (`configuredRack`).
 */
export function rigMetaFrom(
  fleet: FleetView,
  config: Config,
  places?: PlaceHistory,
): (rigId: string, fromMs?: number, toMs?: number) => RigMeta {
  // Only the rigs with a rack: a rig without one reads null either way (0.46 MB at 10,000 untagged rigs).
  const rackByName = new Map<string, string>();
  for (const r of config.rigs) {
    const rack = configuredRack(r);
    // Unnamed rigs by their address as the fleet keys it (`10.0.0.3` is `10.0.0.3:4028` there).
    if (rack !== undefined) rackByName.set(r.name ?? normalizeAddress(r.address), rack);
  }
  const rackByAddress = places ? racksByAddress(config) : undefined;
  return (rigId, fromMs, toMs) => {
    const st = fleet.get(rigId);
    const placed =
      places && rackByAddress && fromMs !== undefined && toMs !== undefined
        ? rackByPlace(places, rackByAddress, rigId, fromMs, toMs)
        : undefined;
    return {
      model: st?.current?.identity.model ?? null,
      rack: placed ?? (st ? (rackByName.get(st.name ?? st.address) ?? null) : null),
    };
  };
}

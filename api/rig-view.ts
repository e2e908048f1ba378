/** How a rig is shown in lists and looked up from a path segment. */

import { type FleetView, normalizeAddress, type RigStatus } from '../collector/views.js';
import type { Config } from '../config/schema.js';
import type { Family, PowerSource, RigState } from '../protocols/sample.js';
import { round } from './fleet-summary.js';

export interface RigSummary {
  rig_id: string;
  name: string | null;
  address: string;
  state: RigState;
  /** From the latest sample, else the configured family, else null. */
  family: Family | 'auto' | null;
  model: string | null;
  hashrate_hs: number | null;
  hashrate_ths: number | null;
  hashrate_nominal_hs: number | null;
  power_w: number | null;
  power_source: PowerSource | null;
  /** The miner's own power claim, kept beside a metered or estimated `power_w`. */
  power_miner_w: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  last_seen_ms: number | null;
  /** When the rig last answered a poll (null: never); `age_s` is how long ago, at the time of the reply. */
  last_answered_ms: number | null;
  age_s: number | null;
  last_error: { code: string; message: string } | null;
  /** Why the rig is in its state, in words: the poll error, else the parser's first note, else null. */
  state_reason: string | null;
  /** Where the rig stands (config `location`; site defaults to site.name); null when not configured. */
  location: { site: string; row: string; rack: string; slot: number | null } | null;
  consecutive_failures: number;
  next_poll_ms: number | null;
  /** The collector that polls this rig went away (standalone API only): its figures are the last known ones. */
  stale: boolean;
  /** True for a rig of the built-in emulated fleet: its figures are not a real machine's. */
  emulated: boolean;
}

type RigConfig = Config['rigs'][number];

interface ConfigIndex {
  /** Keyed by the config's own strings: with `a:`/`n:` keys of its own the index was 2.3 MB at 10,000 rigs, now 0.9. */
  byAddress: Map<string, RigConfig>;
  byName: Map<string, RigConfig>;
  /** Address text → its normalized key: parsing an address per rig per snapshot was most of a rebuild. */
  normalized: Map<string, string>;
}
/** Config rigs by name and by address, built once per config (a list of 10,000 rigs would otherwise be O(n²)). */
const indexes = new WeakMap<Config, ConfigIndex>();

function indexOf(config: Config): ConfigIndex {
  let index = indexes.get(config);
  if (!index) {
    const byAddress = new Map<string, RigConfig>();
    const byName = new Map<string, RigConfig>();
    for (const r of config.rigs) {
      const address = normalizeAddress(r.address);
      if (!byAddress.has(address)) byAddress.set(address, r);
      if (r.name !== undefined && !byName.has(r.name)) byName.set(r.name, r);
    }
    index = { byAddress, byName, normalized: new Map() };
    indexes.set(config, index);
  }
  return index;
}

export function configuredRig(config: Config, rig: RigStatus): RigConfig | undefined {
  const index = indexOf(config);
  const byName = rig.name !== null ? index.byName.get(rig.name) : undefined;
  if (byName) return byName;
  let address = index.normalized.get(rig.address);
  if (address === undefined) {
    address = normalizeAddress(rig.address);
    // Bounded by the addresses the fleet has seen; a fleet that churns through more is not worth keeping.
    if (index.normalized.size > 100_000) index.normalized.clear();
    index.normalized.set(rig.address, address);
  }
  return index.byAddress.get(address);
}

export function rigFamily(
  config: Config,
  rig: RigStatus,
  configured: RigConfig | undefined = configuredRig(config, rig),
): Family | 'auto' | null {
  const seen = rig.current?.identity.family;
  if (seen && seen !== 'unknown') return seen;
  return configured?.family ?? seen ?? null;
}

export function summarizeRig(config: Config, rig: RigStatus, nowMs: number = Date.now()): RigSummary {
  const s = rig.current;
  const configured = configuredRig(config, rig);
  return {
    rig_id: rig.rig_id,
    name: rig.name,
    address: rig.address,
    state: rig.state,
    family: rigFamily(config, rig, configured),
    model: s?.identity.model ?? null,
    hashrate_hs: s?.hashrate_hs ?? null,
    hashrate_ths: s?.hashrate_hs == null ? null : round(s.hashrate_hs / 1e12, 3),
    hashrate_nominal_hs: s?.hashrate_nominal_hs ?? null,
    power_w: s?.power_w ?? null,
    power_source: s?.power_w == null ? null : s.power_source,
    power_miner_w: s?.power_miner_w ?? null,
    temp_chip_max_c: s?.temp_chip_max_c ?? null,
    temp_board_max_c: s?.temp_board_max_c ?? null,
    last_seen_ms: rig.last_seen_ms,
    last_answered_ms: rig.last_seen_ms,
    age_s: rig.last_seen_ms === null ? null : Math.max(0, Math.round((nowMs - rig.last_seen_ms) / 100) / 10),
    last_error: rig.last_error,
    state_reason: stateReason(rig),
    location: rigLocation(config, configured),
    consecutive_failures: rig.consecutive_failures,
    next_poll_ms: rig.next_poll_ms,
    stale: rig.stale ?? false,
    emulated: configured?.tags?.['emulated'] === 'true',
  };
}

/** The configured location with the site filled in, or null. */
export function rigLocation(config: Config, rig: RigConfig | undefined): RigSummary['location'] {
  const l = rig?.location;
  if (!l) return null;
  return { site: l.site ?? config.site.name, row: l.row, rack: l.rack, slot: l.slot ?? null };
}

function stateReason(rig: RigStatus): string | null {
  if (rig.last_error) return `${rig.last_error.code}: ${rig.last_error.message}`;
  if (rig.state === 'mining') return null;
  return rig.current?.notes[0] ?? null;
}

/** Rigs by id, id in lower case (MACs), name and address: what `findRig` falls back to without a scan. */
export function indexRigs(rigs: readonly RigStatus[]): Map<string, RigStatus> {
  const index = new Map<string, RigStatus>();
  const put = (key: string | null, rig: RigStatus) => {
    if (key !== null && !index.has(key)) index.set(key, rig);
  };
  // In the order a scan would have found them: the first rig matching by id, name or address wins.
  for (const r of rigs) {
    put(`any:${r.rig_id}`, r);
    put(r.name === null ? null : `any:${r.name}`, r);
    put(`any:${r.address}`, r);
    put(`address:${r.address}`, r);
    put(`lower:${r.rig_id.toLowerCase()}`, r);
  }
  return index;
}

/**
 * A path segment may be URL-encoded (`10.0.0.12%3A4028`); fastify already decodes it. `index` (from
 * `indexRigs`, built once per snapshot) replaces scans of the whole fleet: at 10,000 rigs each scan copied the
 * fleet, so every unknown id cost milliseconds.
 */
export function findRig(
  fleet: FleetView,
  id: string,
  index?: () => Map<string, RigStatus>,
): RigStatus | undefined {
  // A name, id or address the fleet knows as given: most requests, answered before any closure is made.
  const known = fleet.get(id);
  if (known) return known;
  // From the index, then fresh from the fleet (the index may be a snapshot old).
  const lookup = (key: string, match: (r: RigStatus) => boolean) => {
    if (!index) return fleet.list().find(match);
    const r = index().get(key);
    return r ? (fleet.get(r.address) ?? r) : undefined;
  };
  const direct = lookup(`any:${id}`, (r) => r.rig_id === id || r.name === id || r.address === id);
  if (direct) return direct;
  // A MAC is the same rig in either case (`AA:BB:…` and `aa:bb:…`).
  if (/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(id)) {
    const mac = id.toLowerCase().replace(/-/g, ':');
    const found = fleet.get(mac) ?? lookup(`lower:${mac}`, (r) => r.rig_id.toLowerCase() === mac);
    if (found) return found;
  }
  if (!/^[0-9A-Za-z.\-[\]:]+$/.test(id)) return direct;
  // `10.0.0.12` names the rig polled at 10.0.0.12:4028.
  const address = normalizeAddress(id);
  return address === id
    ? undefined
    : (fleet.get(address) ?? lookup(`address:${address}`, (r) => r.address === address));
}

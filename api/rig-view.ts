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
  /** True for a rig of the built-in emulated fleet: its figures are not a real machine's. */
  emulated: boolean;
}

type RigConfig = Config['rigs'][number];
/** Config rigs by name and by address, built once per config (a list of 10,000 rigs would otherwise be O(n²)). */
const indexes = new WeakMap<Config, Map<string, RigConfig>>();

export function configuredRig(config: Config, rig: RigStatus): RigConfig | undefined {
  let index = indexes.get(config);
  if (!index) {
    index = new Map();
    for (const r of config.rigs) {
      const address = normalizeAddress(r.address);
      if (!index.has(`a:${address}`)) index.set(`a:${address}`, r);
      if (r.name !== undefined && !index.has(`n:${r.name}`)) index.set(`n:${r.name}`, r);
    }
    indexes.set(config, index);
  }
  return (
    (rig.name !== null ? index.get(`n:${rig.name}`) : undefined) ??
    index.get(`a:${normalizeAddress(rig.address)}`)
  );
}

export function rigFamily(config: Config, rig: RigStatus): Family | 'auto' | null {
  const seen = rig.current?.identity.family;
  if (seen && seen !== 'unknown') return seen;
  return configuredRig(config, rig)?.family ?? seen ?? null;
}

export function summarizeRig(config: Config, rig: RigStatus, nowMs: number = Date.now()): RigSummary {
  const s = rig.current;
  return {
    rig_id: rig.rig_id,
    name: rig.name,
    address: rig.address,
    state: rig.state,
    family: rigFamily(config, rig),
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
    location: rigLocation(config, configuredRig(config, rig)),
    consecutive_failures: rig.consecutive_failures,
    next_poll_ms: rig.next_poll_ms,
    emulated: configuredRig(config, rig)?.tags?.['emulated'] === 'true',
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

/** A path segment may be URL-encoded (`10.0.0.12%3A4028`); fastify already decodes it. */
export function findRig(fleet: FleetView, id: string): RigStatus | undefined {
  const direct =
    fleet.get(id) ?? fleet.list().find((r) => r.rig_id === id || r.name === id || r.address === id);
  if (direct) return direct;
  // A MAC is the same rig in either case (`AA:BB:…` and `aa:bb:…`).
  if (/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(id)) {
    const mac = id.toLowerCase().replace(/-/g, ':');
    const found = fleet.get(mac) ?? fleet.list().find((r) => r.rig_id.toLowerCase() === mac);
    if (found) return found;
  }
  if (!/^[0-9A-Za-z.\-[\]:]+$/.test(id)) return direct;
  // `10.0.0.12` names the rig polled at 10.0.0.12:4028.
  const address = normalizeAddress(id);
  return address === id ? undefined : (fleet.get(address) ?? fleet.list().find((r) => r.address === address));
}

/**
 * A rig's configured name and location, by the address it is polled at: alerts, MQTT discovery, InfluxDB tags
 * and /metrics all name rigs the way the config does, not by MAC or address.
 */
import type { Config } from '../config/schema.js';
import { normalizeAddress } from './address.js';
import type { RigPlace } from './alerts.js';

export interface RigNames {
  name: string | null;
  location: RigPlace | null;
}

const NONE: RigNames = { name: null, location: null };

type RigNamesLookup = (address: string) => RigNames;
/** One look-up per config: the alert engine, the InfluxDB and the MQTT sink all ask (~150 bytes a rig each). */
const lookups = new WeakMap<Config, RigNamesLookup>();

/** Look-up by polled address, built once from the config. */
export function rigNamesFromConfig(config: Config): RigNamesLookup {
  let lookup = lookups.get(config);
  if (!lookup) {
    lookup = buildLookup(config);
    lookups.set(config, lookup);
  }
  return lookup;
}

function buildLookup(config: Config): RigNamesLookup {
  const byAddress = new Map<string, RigNames>();
  for (const rig of config.rigs) {
    const l = rig.location;
    // A rig with neither is what an unknown address gets: no entry of its own.
    if (rig.name === undefined && !l) continue;
    byAddress.set(normalizeAddress(rig.address), {
      name: rig.name ?? null,
      location: l
        ? { site: l.site ?? config.site.name, row: l.row, rack: l.rack, slot: l.slot ?? null }
        : null,
    });
  }
  return (address) => byAddress.get(address) ?? byAddress.get(normalizeAddress(address)) ?? NONE;
}

/**
 * A rig's configured name and location, by the address it is polled at: alerts, MQTT discovery, InfluxDB tags
 * and /metrics all name rigs the way the config does, not by MAC or address.
 */
import { type Config, splitAddress } from '../config/schema.js';
import type { RigPlace } from './alerts.js';

export interface RigNames {
  name: string | null;
  location: RigPlace | null;
}

const NONE: RigNames = { name: null, location: null };

/** `host:port` as the collector writes it in `Sample.address` (IPv6 in brackets, port 4028 by default). */
export function normalAddress(address: string): string {
  const { host, port } = splitAddress(address);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Look-up by polled address, built once from the config. */
export function rigNamesFromConfig(config: Config): (address: string) => RigNames {
  const byAddress = new Map<string, RigNames>();
  for (const rig of config.rigs) {
    const l = rig.location;
    byAddress.set(normalAddress(rig.address), {
      name: rig.name ?? null,
      location: l
        ? { site: l.site ?? config.site.name, row: l.row, rack: l.rack, slot: l.slot ?? null }
        : null,
    });
  }
  return (address) => byAddress.get(address) ?? byAddress.get(normalAddress(address)) ?? NONE;
}
